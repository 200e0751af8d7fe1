"""Planning layers: administrative units, parcels, zoning, land use, roads, and the parcel card."""
