// The shell's strings (bar, search, map, layers), Vietnamese first; each view carries its own
// and falls back to these. Code refers to keys only.
export const MESSAGES = {
  vi: {
    "app.title": "Bản đồ quy hoạch Quận 7",
    "app.offline": "Đang ngoại tuyến: bản đồ và thông tin đã xem vẫn hiển thị",
    "map.label": "Bản đồ Quận 7",
    "sheet.close": "Đóng",
    "card.loading": "Đang tải thông tin thửa đất…",
    "card.none": "Không có thửa đất tại vị trí này",
    "layers.button": "Lớp bản đồ",
    "layers.title": "Lớp bản đồ",
    "layers.zoning": "Quy hoạch phân khu 1/2000",
    "layers.land_use": "Quy hoạch sử dụng đất",
    "layers.parcels": "Thửa đất",
    "layers.wards_old": "Ranh phường trước 01/07/2025",
    "layers.feedback": "Phản ánh của người dân",
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
    "app.unavailable": "Không mở được màn hình này khi ngoại tuyến",
    "account.button": "Đăng nhập",
    "account.mine": "Tài khoản của tôi",
    "planner.button": "Dữ liệu quy hoạch",
    "feedback.here": "Phản ánh tại đây",
    "feedback.at_me": "Phản ánh tại vị trí của tôi",
    "feedback.mine": "Phản ánh của tôi",
  },
  en: {
    "app.title": "District 7 planning map",
    "app.offline": "Offline: the map and cards you viewed still show",
    "map.label": "Map of District 7",
    "sheet.close": "Close",
    "card.loading": "Loading the parcel…",
    "card.none": "No parcel at this place",
    "layers.button": "Map layers",
    "layers.title": "Map layers",
    "layers.zoning": "1/2000 zoning plan",
    "layers.land_use": "Land-use plan",
    "layers.parcels": "Parcels",
    "layers.wards_old": "Ward boundaries before 1 July 2025",
    "layers.feedback": "Citizens' reports",
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
    "app.unavailable": "This screen cannot open offline",
    "account.button": "Sign in",
    "account.mine": "My account",
    "planner.button": "Planning data",
    "feedback.here": "Report a problem here",
    "feedback.at_me": "Report a problem where I am",
    "feedback.mine": "My reports",
  },
};

// A view's translator: its own strings (STRINGS[lang]) first, then the shell's.
export function translator(lang, own = {}) {
  const mine = own[lang] || own.vi || {};
  const shell = MESSAGES[lang] || MESSAGES.vi;
  return (key, values = {}) =>
    (mine[key] ?? shell[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// dd/mm/yyyy, as Vietnamese documents write dates.
export const formatDate = (iso) => {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
};

// Vietnamese number format: 1.234,5 (digits: the most after the comma, 1 unless told).
export const formatNumber = (value, lang = "vi", digits = 1) =>
  new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: digits })
    .format(value);
