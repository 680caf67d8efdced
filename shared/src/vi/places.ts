/**
 * Place names every installation knows, whatever its imported area list: the provinces and centrally run
 * cities (the 63 of 2008–2025, whose names stay in use) and a few names bulletins write together
 * ("HaNoi", "QuangNam"). The server adds its own areas through NormalizeOptions.places (issue 19 "Loanwords").
 */
export const NATIONAL_PLACES: readonly string[] = Object.freeze([
  'An Giang', 'Bà Rịa - Vũng Tàu', 'Bắc Giang', 'Bắc Kạn', 'Bạc Liêu', 'Bắc Ninh', 'Bến Tre', 'Bình Định',
  'Bình Dương', 'Bình Phước', 'Bình Thuận', 'Cà Mau', 'Cần Thơ', 'Cao Bằng', 'Đà Nẵng', 'Đắk Lắk', 'Đắk Nông',
  'Điện Biên', 'Đồng Nai', 'Đồng Tháp', 'Gia Lai', 'Hà Giang', 'Hà Nam', 'Hà Nội', 'Hà Tĩnh', 'Hải Dương',
  'Hải Phòng', 'Hậu Giang', 'Hòa Bình', 'Hưng Yên', 'Khánh Hòa', 'Kiên Giang', 'Kon Tum', 'Lai Châu',
  'Lâm Đồng', 'Lạng Sơn', 'Lào Cai', 'Long An', 'Nam Định', 'Nghệ An', 'Ninh Bình', 'Ninh Thuận', 'Phú Thọ',
  'Phú Yên', 'Quảng Bình', 'Quảng Nam', 'Quảng Ngãi', 'Quảng Ninh', 'Quảng Trị', 'Sóc Trăng', 'Sơn La',
  'Tây Ninh', 'Thái Bình', 'Thái Nguyên', 'Thanh Hóa', 'Thừa Thiên Huế', 'Tiền Giang', 'Hồ Chí Minh',
  'Trà Vinh', 'Tuyên Quang', 'Vĩnh Long', 'Vĩnh Phúc', 'Yên Bái',
  'Việt Nam', 'Huế', 'Sài Gòn', 'Vũng Tàu', 'Nha Trang', 'Đà Lạt', 'Hạ Long', 'Phú Quốc', 'Hội An', 'Sa Pa',
  'Tây Nguyên', 'Buôn Ma Thuột', 'Biên Hòa', 'Quy Nhơn', 'Phan Thiết', 'Cửa Lò', 'Móng Cái', 'Điện Biên Phủ',
]);
