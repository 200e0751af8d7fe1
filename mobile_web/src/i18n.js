// Every string the app shows, Vietnamese first; code refers to keys only.
export const MESSAGES = {
  vi: {
    "app.title": "Bản đồ quy hoạch Quận 7",
    "app.offline": "Đang ngoại tuyến: bản đồ và thông tin đã xem vẫn hiển thị",
    "map.label": "Bản đồ Quận 7",
    "sheet.close": "Đóng",
    "card.loading": "Đang tải thông tin thửa đất…",
    "card.parcel": "Thửa {number}, tờ bản đồ {sheet}",
    "card.key": "Mã thửa",
    "card.area": "Diện tích",
    "card.ward": "Phường",
    "card.ward_old": "trước 01/07/2025: {name}",
    "card.address": "Địa chỉ",
    "card.zoning": "Quy hoạch phân khu 1/2000",
    "card.block": "Ô phố {code}: {function} ({share}%)",
    "card.indicators": "Tầng cao {min}–{max} · mật độ {coverage}% · hệ số SDĐ {far}",
    "card.land_use": "Quy hoạch sử dụng đất",
    "card.frontage": "Lộ giới",
    "card.road": "{street}: lộ giới {width} m",
    "card.none": "Không có thửa đất tại vị trí này",
    "card.share": "Chia sẻ thửa đất",
    "card.plans": "Quyết định phê duyệt",
    "card.plan": "{decision} ngày {date} — {name}",
    "card.services": "Dịch vụ có thể thực hiện",
    "card.service_soon": "Sắp có: bắt đầu “{name}” ngay từ thửa đất này, điền sẵn thông tin thửa",
    "card.copied": "Đã sao chép đường dẫn",
    "layers.button": "Lớp bản đồ",
    "layers.title": "Lớp bản đồ",
    "layers.zoning": "Quy hoạch phân khu 1/2000",
    "layers.land_use": "Quy hoạch sử dụng đất",
    "layers.parcels": "Thửa đất",
    "layers.wards_old": "Ranh phường trước 01/07/2025",
    "layers.legend": "Chú giải sử dụng đất",
    "map.zoom_in": "Phóng to",
    "map.zoom_out": "Thu nhỏ",
    "map.locate": "Vị trí của tôi",
    "search.label": "Tìm thửa đất",
    "search.placeholder": "Mã thửa, phường + tờ/thửa (Tân Phú 3/89), địa chỉ",
    "search.go": "Tìm",
    "search.none": "Không tìm thấy kết quả",
    "search.parcel": "Thửa {number}, tờ {sheet} — {ward}",
    "search.street": "Đường {name} (lộ giới {width} m)",
  },
  en: {
    "app.title": "District 7 planning map",
    "app.offline": "Offline: the map and cards you viewed still show",
    "map.label": "Map of District 7",
    "sheet.close": "Close",
    "card.loading": "Loading the parcel…",
    "card.parcel": "Parcel {number}, map sheet {sheet}",
    "card.key": "Parcel key",
    "card.area": "Area",
    "card.ward": "Ward",
    "card.ward_old": "before 1 July 2025: {name}",
    "card.address": "Address",
    "card.zoning": "1/2000 zoning plan",
    "card.block": "Block {code}: {function} ({share}%)",
    "card.indicators": "Floors {min}–{max} · coverage {coverage}% · FAR {far}",
    "card.land_use": "Land-use plan",
    "card.frontage": "Right-of-way",
    "card.road": "{street}: right-of-way {width} m",
    "card.none": "No parcel at this place",
    "card.share": "Share this parcel",
    "card.plans": "Approving decisions",
    "card.plan": "{decision} of {date} — {name}",
    "card.services": "What you can start here",
    "card.service_soon": "Coming soon: start “{name}” from this parcel, pre-filled with its facts",
    "card.copied": "Link copied",
    "layers.button": "Map layers",
    "layers.title": "Map layers",
    "layers.zoning": "1/2000 zoning plan",
    "layers.land_use": "Land-use plan",
    "layers.parcels": "Parcels",
    "layers.wards_old": "Ward boundaries before 1 July 2025",
    "layers.legend": "Land-use legend",
    "map.zoom_in": "Zoom in",
    "map.zoom_out": "Zoom out",
    "map.locate": "Find my location",
    "search.label": "Find a parcel",
    "search.placeholder": "Parcel key, ward + sheet/parcel (Tân Phú 3/89), address",
    "search.go": "Search",
    "search.none": "Nothing found",
    "search.parcel": "Parcel {number}, sheet {sheet} — {ward}",
    "search.street": "{name} (right-of-way {width} m)",
  },
};

export function translator(lang) {
  const messages = MESSAGES[lang] || MESSAGES.vi;
  return (key, values = {}) =>
    (messages[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// dd/mm/yyyy, as Vietnamese documents write dates.
export const formatDate = (iso) => {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
};

// Vietnamese number format: 1.234,5
export const formatNumber = (value, lang = "vi") =>
  new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 })
    .format(value);
