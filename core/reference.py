"""Reference data in force that several packages read the same way."""

# The land-use code list whose names and colours cards, tiles and the legend show.
LAND_USE_CATALOGUE = "TT27-2018"
