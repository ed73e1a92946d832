//! TDS 7.x wire format, server side: packet headers, PRELOGIN, LOGIN7, SQL batch and RPC parsing, and the
//! token-stream writer for responses. Every parser takes untrusted bytes and fails with `WireError`.

use rusqlite::types::Value;
use rust_decimal::Decimal;

use super::types::{self, SqlType};

pub const HEADER_LEN: usize = 8;
pub const PACKET_SQL_BATCH: u8 = 0x01;
pub const PACKET_RPC: u8 = 0x03;
pub const PACKET_TABULAR: u8 = 0x04;
pub const PACKET_ATTENTION: u8 = 0x06;
pub const PACKET_TRANSACTION_MANAGER: u8 = 0x0E;
pub const PACKET_LOGIN7: u8 = 0x10;
pub const PACKET_PRELOGIN: u8 = 0x12;
pub const STATUS_EOM: u8 = 0x01;

/// TDS versions as LOGIN7 (little-endian) and LOGINACK (big-endian) carry them.
pub const TDS_70: u32 = 0x7000_0000;
pub const TDS_71: u32 = 0x7100_0000;
pub const TDS_71_REV1: u32 = 0x7100_0001;
pub const TDS_72: u32 = 0x7209_0002;
pub const TDS_73A: u32 = 0x730A_0003;
pub const TDS_73B: u32 = 0x730B_0003;
pub const TDS_74: u32 = 0x7400_0004;

/// The version LOGINACK agrees to: the client's own when SQL Server 2019 speaks it, else 7.4 (its newest).
pub fn negotiate_tds_version(client: u32) -> u32 {
    const SPOKEN: [u32; 7] = [
        TDS_70,
        TDS_71,
        TDS_71_REV1,
        TDS_72,
        TDS_73A,
        TDS_73B,
        TDS_74,
    ];
    if SPOKEN.contains(&client) {
        client
    } else {
        TDS_74
    }
}

/// ALL_HEADERS in batches, RPCs and transaction requests, and 8-byte DONE row counts, came with TDS 7.2.
pub fn has_all_headers(tds_version: u32) -> bool {
    tds_version >= TDS_72
}
/// sp_executesql's well-known procedure id.
pub const PROC_SP_EXECUTESQL: u16 = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message truncated while reading {0}")]
    Truncated(&'static str),
    #[error("malformed message: {0}")]
    Malformed(String),
}

type Result<T> = std::result::Result<T, WireError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    pub packet_type: u8,
    pub status: u8,
    /// Whole packet length, header included.
    pub length: usize,
}

pub fn parse_header(bytes: &[u8; HEADER_LEN]) -> Result<PacketHeader> {
    let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    if length < HEADER_LEN {
        return Err(WireError::Malformed(format!(
            "packet length {length} shorter than its header"
        )));
    }
    // Rejecting unknown types at once avoids waiting for the body of a packet that is really noise.
    const CLIENT_TYPES: [u8; 9] = [0x01, 0x02, 0x03, 0x06, 0x07, 0x0E, 0x10, 0x11, 0x12];
    if !CLIENT_TYPES.contains(&bytes[0]) {
        return Err(WireError::Malformed(format!(
            "unknown packet type 0x{:02X}",
            bytes[0]
        )));
    }
    Ok(PacketHeader {
        packet_type: bytes[0],
        status: bytes[1],
        length,
    })
}

/// Bounds-checked little cursor over a message payload.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated(what))?;
        let slice = self
            .buf
            .get(self.pos..end)
            .ok_or(WireError::Truncated(what))?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

fn utf16(bytes: &[u8], what: &str) -> Result<String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(WireError::Malformed(format!("odd UTF-16 length in {what}")));
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<std::result::Result<String, _>>()
        .map_err(|_| WireError::Malformed(format!("invalid UTF-16 in {what}")))
}

/// Checks a client PRELOGIN (option table with in-bounds offsets) and returns its encryption byte.
pub fn parse_prelogin(payload: &[u8]) -> Result<u8> {
    let mut r = Reader::new(payload);
    let mut encryption = 0x02;
    loop {
        let token = r.u8("prelogin option")?;
        if token == 0xFF {
            return Ok(encryption);
        }
        let offset = usize::from(u16::from_be_bytes(r.array("prelogin offset")?));
        let length = usize::from(u16::from_be_bytes(r.array("prelogin length")?));
        let data = payload
            .get(offset..offset.saturating_add(length))
            .ok_or(WireError::Truncated("prelogin option data"))?;
        if token == 0x01 {
            encryption = *data
                .first()
                .ok_or(WireError::Truncated("prelogin encryption"))?;
        }
    }
}

/// Server PRELOGIN answer: version 15.0.2000, the negotiated ENCRYPTION byte, no instance, no thread id,
/// no MARS.
pub fn prelogin_response(encryption: u8) -> Vec<u8> {
    let options: [(u8, &[u8]); 5] = [
        (0x00, &[0x0F, 0x00, 0x07, 0xD0, 0x00, 0x00]),
        (0x01, &[encryption]),
        (0x02, &[0x00]),
        (0x03, &[]),
        (0x04, &[0x00]),
    ];
    let mut table = Vec::new();
    let mut data = Vec::new();
    let mut offset = options.len() * 5 + 1;
    for (token, bytes) in options {
        table.push(token);
        table.extend_from_slice(&(offset as u16).to_be_bytes());
        table.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        data.extend_from_slice(bytes);
        offset += bytes.len();
    }
    table.push(0xFF);
    table.extend(data);
    table
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login7 {
    /// The TDS version the client asks for (little-endian on the wire).
    pub tds_version: u32,
    pub packet_size: u32,
    pub user: String,
    pub password: String,
    pub database: String,
}

/// LOGIN7: fixed header then (offset, length-in-characters) pairs into the variable part.
pub fn parse_login7(payload: &[u8]) -> Result<Login7> {
    let mut r = Reader::new(payload);
    let _length = r.u32("login length")?;
    let tds_version = r.u32("login tds version")?;
    let packet_size = r.u32("login packet size")?;
    let field = |index: usize| -> Result<&[u8]> {
        let at = 36 + index * 4;
        let pair = payload
            .get(at..at + 4)
            .ok_or(WireError::Truncated("login offsets"))?;
        let offset = usize::from(u16::from_le_bytes([pair[0], pair[1]]));
        let chars = usize::from(u16::from_le_bytes([pair[2], pair[3]]));
        payload
            .get(offset..offset + chars * 2)
            .ok_or(WireError::Truncated("login field"))
    };
    let user = utf16(field(1)?, "login user")?;
    // The password is obfuscated byte by byte: nibbles swapped, then XOR 0xA5.
    let clear: Vec<u8> = field(2)?
        .iter()
        .map(|b| (b ^ 0xA5).rotate_left(4))
        .collect();
    let password = utf16(&clear, "login password")?;
    let database = utf16(field(8)?, "login database")?;
    Ok(Login7 {
        tds_version,
        packet_size,
        user,
        password,
        database,
    })
}

/// Skips ALL_HEADERS (present since TDS 7.2) at the start of a batch, RPC or transaction request.
fn skip_all_headers(r: &mut Reader<'_>, tds_version: u32) -> Result<()> {
    if !has_all_headers(tds_version) {
        return Ok(());
    }
    let total = r.u32("ALL_HEADERS length")? as usize;
    if total < 4 {
        return Err(WireError::Malformed(
            "ALL_HEADERS shorter than its length field".into(),
        ));
    }
    r.bytes(total - 4, "ALL_HEADERS")?;
    Ok(())
}

pub fn parse_sql_batch(payload: &[u8], tds_version: u32) -> Result<String> {
    let mut r = Reader::new(payload);
    skip_all_headers(&mut r, tds_version)?;
    utf16(&payload[r.pos..], "SQL batch text")
}

/// A Transaction Manager request (packet type 0x0E), which drivers' begin/commit/rollback/save calls send.
/// Names may be empty; for COMMIT and ROLLBACK, `begin_after` asks for a new transaction right after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionRequest {
    Begin { name: String },
    Commit { name: String, begin_after: bool },
    Rollback { name: String, begin_after: bool },
    Save { name: String },
}

pub fn parse_transaction_manager(payload: &[u8], tds_version: u32) -> Result<TransactionRequest> {
    let mut r = Reader::new(payload);
    skip_all_headers(&mut r, tds_version)?;
    // MS-TDS 2.2.6.9: the name's length byte counts BYTES of UTF-16, not characters.
    let name = |r: &mut Reader<'_>| -> Result<String> {
        let bytes = usize::from(r.u8("transaction name length")?);
        utf16(
            r.bytes(bytes, "transaction name")?,
            "transaction name (its length byte counts bytes)",
        )
    };
    let end_flags = |r: &mut Reader<'_>| -> Result<bool> {
        if r.is_empty() {
            return Ok(false);
        }
        let flags = r.u8("transaction flags")?;
        let begin_after = flags & 0x01 != 0;
        if begin_after {
            r.u8("isolation level")?;
            name(r)?;
        }
        Ok(begin_after)
    };
    let request = match r.u16("transaction request type")? {
        5 => {
            r.u8("isolation level")?;
            TransactionRequest::Begin {
                name: name(&mut r)?,
            }
        }
        7 => TransactionRequest::Commit {
            name: name(&mut r)?,
            begin_after: end_flags(&mut r)?,
        },
        8 => TransactionRequest::Rollback {
            name: name(&mut r)?,
            begin_after: end_flags(&mut r)?,
        },
        9 => TransactionRequest::Save {
            name: name(&mut r)?,
        },
        other => {
            return Err(WireError::Malformed(format!(
                "unsupported transaction manager request {other}"
            )));
        }
    };
    if !r.is_empty() {
        return Err(WireError::Malformed(format!(
            "{} bytes after the transaction manager request (a name length counted in characters?)",
            payload.len() - r.pos
        )));
    }
    Ok(request)
}

#[derive(Debug, Clone, PartialEq)]
pub enum RpcProc {
    Id(u16),
    Name(String),
}

/// A decoded RPC parameter: its value as SQLite will bind it, and the SQL type it arrived with.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcParam {
    pub name: String,
    pub value: Value,
    /// `None` for the untyped NULL (0x1F) tiberius sends for null dates and decimals.
    pub sql_type: Option<SqlType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    pub procedure: RpcProc,
    pub params: Vec<RpcParam>,
}

pub fn parse_rpc(payload: &[u8], tds_version: u32) -> Result<RpcCall> {
    let mut r = Reader::new(payload);
    skip_all_headers(&mut r, tds_version)?;
    let name_len = r.u16("RPC name length")?;
    let procedure = if name_len == 0xFFFF {
        RpcProc::Id(r.u16("RPC proc id")?)
    } else {
        RpcProc::Name(utf16(
            r.bytes(usize::from(name_len) * 2, "RPC name")?,
            "RPC name",
        )?)
    };
    let _option_flags = r.u16("RPC option flags")?;
    let mut params = Vec::new();
    // A batch separator (0x80 / 0xFF) would start a second RPC; the simulator serves one per request.
    while !r.is_empty() && !matches!(r.buf.get(r.pos), Some(0x80) | Some(0xFF)) {
        let name_chars = usize::from(r.u8("param name length")?);
        let name = utf16(r.bytes(name_chars * 2, "param name")?, "param name")?;
        let _status = r.u8("param status")?;
        let (value, sql_type) = read_typed_value(&mut r)?;
        params.push(RpcParam {
            name,
            value,
            sql_type,
        });
    }
    Ok(RpcCall { procedure, params })
}

fn read_var_bytes(r: &mut Reader<'_>, max_len: u16) -> Result<Option<Vec<u8>>> {
    if max_len == types::MAX_LEN {
        let total = r.u64("PLP length")?;
        if total == u64::MAX {
            return Ok(None);
        }
        let mut data = Vec::new();
        // Chunks end with a zero-length chunk; tiberius omits it for empty values, so end of input also ends.
        while !r.is_empty() {
            let chunk = r.u32("PLP chunk length")? as usize;
            if chunk == 0 {
                break;
            }
            data.extend_from_slice(r.bytes(chunk, "PLP chunk")?);
        }
        return Ok(Some(data));
    }
    let len = r.u16("value length")?;
    if len == 0xFFFF {
        return Ok(None);
    }
    Ok(Some(r.bytes(usize::from(len), "value")?.to_vec()))
}

fn le_int(bytes: &[u8]) -> i64 {
    match bytes.len() {
        1 => i64::from(bytes[0]),
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        _ => {
            let mut b = [0u8; 8];
            b[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
            i64::from_le_bytes(b)
        }
    }
}

fn le_uint(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(b)
}

fn bad_len(what: &str, len: usize) -> WireError {
    WireError::Malformed(format!("{what} value of {len} bytes"))
}

/// TYPE_INFO followed by the value, as RPC parameters carry them.
fn read_typed_value(r: &mut Reader<'_>) -> Result<(Value, Option<SqlType>)> {
    let type_byte = r.u8("param type")?;
    let fixed = |r: &mut Reader<'_>, n: usize| -> Result<Vec<u8>> {
        Ok(r.bytes(n, "fixed value")?.to_vec())
    };
    let sized = |r: &mut Reader<'_>| -> Result<Option<Vec<u8>>> {
        let len = usize::from(r.u8("value length")?);
        Ok(if len == 0 {
            None
        } else {
            Some(r.bytes(len, "value")?.to_vec())
        })
    };
    let int_type = |len: usize| match len {
        1 => Ok(SqlType::TinyInt),
        2 => Ok(SqlType::SmallInt),
        4 => Ok(SqlType::Int),
        8 => Ok(SqlType::BigInt),
        n => Err(bad_len("int", n)),
    };
    Ok(match type_byte {
        0x1F => (Value::Null, None),
        0x30 | 0x34 | 0x38 | 0x7F => {
            let n = match type_byte {
                0x30 => 1,
                0x34 => 2,
                0x38 => 4,
                _ => 8,
            };
            let v = if n == 1 {
                i64::from(fixed(r, 1)?[0])
            } else {
                le_int(&fixed(r, n)?)
            };
            (Value::Integer(v), Some(int_type(n)?))
        }
        0x32 => (
            Value::Integer(i64::from(fixed(r, 1)?[0] != 0)),
            Some(SqlType::Bit),
        ),
        0x3E => (
            Value::Real(f64::from_le_bytes(r.array("float")?)),
            Some(SqlType::Float),
        ),
        0x3B => (
            Value::Real(f64::from(f32::from_le_bytes(r.array("real")?))),
            Some(SqlType::Real),
        ),
        0x3D => {
            let b: [u8; 8] = r.array("datetime")?;
            (datetime_value(&b)?, Some(SqlType::DateTime))
        }
        0x26 => {
            let ty = int_type(usize::from(r.u8("int length")?))?;
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 1 => Value::Integer(i64::from(b[0])),
                Some(b) if matches!(b.len(), 2 | 4 | 8) => Value::Integer(le_int(&b)),
                Some(b) => return Err(bad_len("int", b.len())),
            };
            (value, Some(ty))
        }
        0x68 => {
            r.u8("bit length")?;
            let value = sized(r)?.map_or(Value::Null, |b| {
                Value::Integer(i64::from(b.iter().any(|x| *x != 0)))
            });
            (value, Some(SqlType::Bit))
        }
        0x6D => {
            let ty = if r.u8("float length")? == 4 {
                SqlType::Real
            } else {
                SqlType::Float
            };
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 4 => {
                    Value::Real(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                }
                Some(b) if b.len() == 8 => Value::Real(f64::from_bits(le_uint(&b))),
                Some(b) => return Err(bad_len("float", b.len())),
            };
            (value, Some(ty))
        }
        0x6E => {
            r.u8("money length")?;
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 8 => {
                    let high = i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    let low = i64::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]]));
                    Value::Text(Decimal::new((high << 32) | low, 4).to_string())
                }
                Some(b) if b.len() == 4 => Value::Text(Decimal::new(le_int(&b), 4).to_string()),
                Some(b) => return Err(bad_len("money", b.len())),
            };
            (value, Some(SqlType::Money))
        }
        0x6F => {
            r.u8("datetime length")?;
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 8 => datetime_value(&b)?,
                Some(b) if b.len() == 4 => {
                    let days = u16::from_le_bytes([b[0], b[1]]);
                    let minutes = u16::from_le_bytes([b[2], b[3]]);
                    let dt =
                        types::datetime_from_parts(i32::from(days), u32::from(minutes) * 60 * 300)
                            .ok_or_else(|| {
                                WireError::Malformed("smalldatetime out of range".into())
                            })?;
                    Value::Text(types::format_datetime(&dt))
                }
                Some(b) => return Err(bad_len("datetime", b.len())),
            };
            (value, Some(SqlType::DateTime))
        }
        0x6A | 0x6C => {
            r.u8("decimal length")?;
            let precision = r.u8("decimal precision")?.clamp(1, 38);
            let scale = r.u8("decimal scale")?.min(precision);
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() >= 2 && b.len() <= 17 => {
                    let mut mag = [0u8; 16];
                    mag[..b.len() - 1].copy_from_slice(&b[1..]);
                    let magnitude = i128::try_from(u128::from_le_bytes(mag))
                        .map_err(|_| WireError::Malformed("decimal magnitude".into()))?;
                    let signed = if b[0] == 0 { -magnitude } else { magnitude };
                    let d = Decimal::try_from_i128_with_scale(signed, u32::from(scale))
                        .map_err(|_| WireError::Malformed("decimal out of range".into()))?;
                    Value::Text(d.to_string())
                }
                Some(b) => return Err(bad_len("decimal", b.len())),
            };
            (value, Some(SqlType::Decimal { precision, scale }))
        }
        0x28 => {
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 3 => {
                    let date = types::date_from_days(le_uint(&b) as u32)
                        .ok_or_else(|| WireError::Malformed("date out of range".into()))?;
                    Value::Text(date.format("%Y-%m-%d").to_string())
                }
                Some(b) => return Err(bad_len("date", b.len())),
            };
            (value, Some(SqlType::Date))
        }
        0x29..=0x2B => {
            let scale = r.u8("time scale")?.min(7);
            let time_len = types::time_len(scale);
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if type_byte == 0x29 && b.len() == time_len => {
                    let t = types::time_from_units(le_uint(&b), scale)
                        .ok_or_else(|| WireError::Malformed("time out of range".into()))?;
                    Value::Text(t.format("%H:%M:%S%.f").to_string())
                }
                // datetimeoffset adds a 2-byte offset after the UTC datetime2; the simulator keeps UTC.
                Some(b)
                    if (type_byte == 0x2A && b.len() == time_len + 3)
                        || (type_byte == 0x2B && b.len() == time_len + 5) =>
                {
                    let t = types::time_from_units(le_uint(&b[..time_len]), scale);
                    let d = types::date_from_days(le_uint(&b[time_len..time_len + 3]) as u32);
                    match (d, t) {
                        (Some(d), Some(t)) => Value::Text(types::format_datetime2(&d.and_time(t))),
                        _ => return Err(WireError::Malformed("datetime2 out of range".into())),
                    }
                }
                Some(b) => return Err(bad_len("time", b.len())),
            };
            let ty = if type_byte == 0x29 {
                SqlType::Time { scale }
            } else {
                SqlType::DateTime2 { scale }
            };
            (value, Some(ty))
        }
        0x24 => {
            r.u8("guid length")?;
            let value = match sized(r)? {
                None => Value::Null,
                Some(b) if b.len() == 16 => {
                    let mut g = [0u8; 16];
                    g.copy_from_slice(&b);
                    Value::Text(types::format_guid(&g))
                }
                Some(b) => return Err(bad_len("uniqueidentifier", b.len())),
            };
            (value, Some(SqlType::UniqueIdentifier))
        }
        0xA7 | 0xAF | 0xE7 | 0xEF => {
            let max_len = r.u16("string max length")?;
            r.bytes(5, "collation")?;
            let value = match read_var_bytes(r, max_len)? {
                None => Value::Null,
                Some(b) if type_byte == 0xE7 || type_byte == 0xEF => {
                    Value::Text(utf16(&b, "nvarchar value")?)
                }
                Some(b) => Value::Text(types::cp1252_decode(&b)),
            };
            let ty = if type_byte == 0xE7 || type_byte == 0xEF {
                SqlType::NVarChar { max_len }
            } else {
                SqlType::VarChar { max_len }
            };
            (value, Some(ty))
        }
        0xA5 | 0xAD => {
            let max_len = r.u16("binary max length")?;
            let value = read_var_bytes(r, max_len)?.map_or(Value::Null, Value::Blob);
            (value, Some(SqlType::VarBinary { max_len }))
        }
        other => {
            return Err(WireError::Malformed(format!(
                "unsupported parameter type 0x{other:02X}"
            )));
        }
    })
}

fn datetime_value(b: &[u8]) -> Result<Value> {
    let days = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let ticks = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let dt = types::datetime_from_parts(days, ticks)
        .ok_or_else(|| WireError::Malformed("datetime out of range".into()))?;
    Ok(Value::Text(types::format_datetime(&dt)))
}

/// One result column as announced in COLMETADATA.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    pub name: String,
    pub sql_type: SqlType,
    pub nullable: bool,
}

pub const DONE_MORE: u16 = 0x01;
pub const DONE_ERROR: u16 = 0x02;
pub const DONE_COUNT: u16 = 0x10;
pub const DONE_ATTN: u16 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneKind {
    Done = 0xFD,
    DoneProc = 0xFE,
    DoneInProc = 0xFF,
}

/// Builds a response token stream; `finish` clears DONE_MORE on the last DONE token.
#[derive(Debug, Default)]
pub struct TokenWriter {
    buf: Vec<u8>,
    last_done_status: Option<usize>,
    /// Clients before TDS 7.2 read 4-byte DONE row counts and 2-byte COLMETADATA user types.
    before_72: bool,
}

fn push_b_varchar(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(255).collect();
    out.push(units.len() as u8);
    units
        .iter()
        .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
}

fn push_us_varchar(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(0xFFFF).collect();
    out.extend_from_slice(&(units.len() as u16).to_le_bytes());
    units
        .iter()
        .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
}

impl TokenWriter {
    /// A writer whose DONE tokens fit the session's TDS version.
    pub fn for_version(tds_version: u32) -> Self {
        TokenWriter {
            before_72: !has_all_headers(tds_version),
            ..Self::default()
        }
    }

    fn token_with_len(&mut self, token: u8, body: &[u8]) {
        self.buf.push(token);
        self.buf
            .extend_from_slice(&(body.len() as u16).to_le_bytes());
        self.buf.extend_from_slice(body);
    }

    /// LOGINACK with the TDS version the server agreed to (see `negotiate_tds_version`).
    pub fn login_ack(&mut self, tds_version: u32) {
        let mut body = vec![0x01];
        body.extend_from_slice(&tds_version.to_be_bytes());
        push_b_varchar(&mut body, "Microsoft SQL Server");
        body.extend_from_slice(&[0x0F, 0x00, 0x07, 0xD0]);
        self.token_with_len(0xAD, &body);
    }

    fn env_change(&mut self, kind: u8, new: &[u8], old: &[u8]) {
        let mut body = vec![kind];
        body.extend_from_slice(new);
        body.extend_from_slice(old);
        self.token_with_len(0xE3, &body);
    }

    fn env_strings(&mut self, kind: u8, new: &str, old: &str) {
        let (mut n, mut o) = (Vec::new(), Vec::new());
        push_b_varchar(&mut n, new);
        push_b_varchar(&mut o, old);
        self.env_change(kind, &n, &o);
    }

    pub fn env_database(&mut self, new: &str) {
        self.env_strings(1, new, "master");
    }

    pub fn env_packet_size(&mut self, size: u32) {
        self.env_strings(4, &size.to_string(), "4096");
    }

    pub fn env_collation(&mut self) {
        let mut new = vec![types::COLLATION.len() as u8];
        new.extend_from_slice(&types::COLLATION);
        self.env_change(7, &new, &[0]);
    }

    pub fn env_begin_transaction(&mut self, descriptor: u64) {
        let mut new = vec![8];
        new.extend_from_slice(&descriptor.to_le_bytes());
        self.env_change(8, &new, &[0]);
    }

    /// Commit (9) and rollback (10) both carry the ended descriptor as the old value.
    pub fn env_end_transaction(&mut self, committed: bool, descriptor: u64) {
        let mut old = vec![8];
        old.extend_from_slice(&descriptor.to_le_bytes());
        self.env_change(if committed { 9 } else { 10 }, &[0], &old);
    }

    pub fn error(&mut self, number: u32, state: u8, class: u8, message: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&number.to_le_bytes());
        body.push(state);
        body.push(class);
        push_us_varchar(&mut body, message);
        push_b_varchar(&mut body, "CPSIM");
        push_b_varchar(&mut body, "");
        body.extend_from_slice(&1u32.to_le_bytes());
        self.token_with_len(0xAA, &body);
    }

    pub fn col_metadata(&mut self, columns: &[ColumnMeta]) {
        self.buf.push(0x81);
        self.buf
            .extend_from_slice(&(columns.len() as u16).to_le_bytes());
        for column in columns {
            if self.before_72 {
                self.buf.extend_from_slice(&0u16.to_le_bytes());
            } else {
                self.buf.extend_from_slice(&0u32.to_le_bytes());
            }
            let flags: u16 = u16::from(column.nullable) | 0x08;
            self.buf.extend_from_slice(&flags.to_le_bytes());
            column.sql_type.write_type_info(&mut self.buf);
            push_b_varchar(&mut self.buf, &column.name);
        }
    }

    /// One ROW token; a value that does not fit its column leaves the writer unchanged.
    pub fn row(
        &mut self,
        columns: &[ColumnMeta],
        values: &[Value],
    ) -> std::result::Result<(), types::ConversionError> {
        let mut row = vec![0xD1];
        for (column, value) in columns.iter().zip(values) {
            column.sql_type.write_value(value, &mut row)?;
        }
        self.buf.extend(row);
        Ok(())
    }

    pub fn return_status(&mut self, status: i32) {
        self.buf.push(0x79);
        self.buf.extend_from_slice(&status.to_le_bytes());
    }

    pub fn done(&mut self, kind: DoneKind, status: u16, rows: u64) {
        self.buf.push(kind as u8);
        self.last_done_status = Some(self.buf.len());
        self.buf
            .extend_from_slice(&(status | DONE_MORE).to_le_bytes());
        // CurCmd: 0xC1 (SELECT) is what SQL Server reports for most statements; clients ignore it.
        self.buf.extend_from_slice(&0xC1u16.to_le_bytes());
        if self.before_72 {
            self.buf
                .extend_from_slice(&(rows.min(u64::from(u32::MAX)) as u32).to_le_bytes());
        } else {
            self.buf.extend_from_slice(&rows.to_le_bytes());
        }
    }

    pub fn has_done(&self) -> bool {
        self.last_done_status.is_some()
    }

    pub fn finish(mut self) -> Vec<u8> {
        if let Some(at) = self.last_done_status {
            self.buf[at] &= !(DONE_MORE as u8);
        }
        self.buf
    }
}

/// Splits a message into TDS packets of at most `packet_size` bytes.
pub fn packetize(packet_type: u8, payload: &[u8], packet_size: usize) -> Vec<u8> {
    let chunk = packet_size.clamp(512, 32767) - HEADER_LEN;
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN * (payload.len() / chunk + 1));
    let mut chunks = payload.chunks(chunk).peekable();
    let mut id: u8 = 1;
    if chunks.peek().is_none() {
        out.extend_from_slice(&[packet_type, STATUS_EOM, 0, HEADER_LEN as u8, 0, 0, 1, 0]);
        return out;
    }
    while let Some(data) = chunks.next() {
        let status = if chunks.peek().is_none() {
            STATUS_EOM
        } else {
            0
        };
        out.push(packet_type);
        out.push(status);
        out.extend_from_slice(&((data.len() + HEADER_LEN) as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, id, 0]);
        out.extend_from_slice(data);
        id = id.wrapping_add(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utf16_bytes(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn login7_password_is_deobfuscated() {
        let fields = ["host", "sa", "Secret!", "app", "srv", "", "", "", "CPSQL"];
        let mut payload = vec![0u8; 94];
        let mut offset = 94usize;
        let mut data = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let mut bytes = utf16_bytes(f);
            if i == 2 {
                bytes.iter_mut().for_each(|b| *b = b.rotate_left(4) ^ 0xA5);
            }
            let at = 36 + i * 4;
            payload[at..at + 2].copy_from_slice(&(offset as u16).to_le_bytes());
            payload[at + 2..at + 4].copy_from_slice(&((bytes.len() / 2) as u16).to_le_bytes());
            offset += bytes.len();
            data.extend(bytes);
        }
        payload[8..12].copy_from_slice(&4096u32.to_le_bytes());
        payload.extend(data);
        let login = parse_login7(&payload).unwrap();
        assert_eq!(login.user, "sa");
        assert_eq!(login.password, "Secret!");
        assert_eq!(login.database, "CPSQL");
        assert_eq!(login.packet_size, 4096);
    }

    #[test]
    fn sql_batch_skips_all_headers() {
        let mut payload = vec![22, 0, 0, 0, 18, 0, 0, 0, 2, 0];
        payload.extend_from_slice(&[0; 12]);
        payload.extend(utf16_bytes("SELECT 1"));
        assert_eq!(parse_sql_batch(&payload, TDS_74).unwrap(), "SELECT 1");
        // Before TDS 7.2 there are no ALL_HEADERS.
        assert_eq!(
            parse_sql_batch(&utf16_bytes("SELECT 2"), TDS_71).unwrap(),
            "SELECT 2"
        );
    }

    #[test]
    fn rpc_with_int_and_null_params() {
        let mut payload = vec![4, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 0];
        payload.push(3);
        payload.extend(utf16_bytes("@P1"));
        payload.extend_from_slice(&[0, 0x26, 4, 4, 7, 0, 0, 0]);
        payload.push(0);
        payload.extend_from_slice(&[0, 0x1F]);
        let call = parse_rpc(&payload, TDS_74).unwrap();
        assert_eq!(call.procedure, RpcProc::Id(PROC_SP_EXECUTESQL));
        assert_eq!(call.params[0].value, Value::Integer(7));
        assert_eq!(call.params[0].sql_type, Some(SqlType::Int));
        assert_eq!(call.params[1].value, Value::Null);
    }

    #[test]
    fn transaction_manager_names_count_bytes() {
        let headers = [4u8, 0, 0, 0];
        let request = |kind: u8, body: &[u8]| {
            let mut p = headers.to_vec();
            p.extend_from_slice(&[kind, 0]);
            p.extend_from_slice(body);
            p
        };
        let mut begin = vec![0u8, 4];
        begin.extend(utf16_bytes("tx"));
        assert_eq!(
            parse_transaction_manager(&request(5, &begin), TDS_74).unwrap(),
            TransactionRequest::Begin { name: "tx".into() }
        );
        let mut save = vec![6u8];
        save.extend(utf16_bytes("sp1"));
        assert_eq!(
            parse_transaction_manager(&request(9, &save), TDS_74).unwrap(),
            TransactionRequest::Save { name: "sp1".into() }
        );
        let mut rollback = vec![6u8];
        rollback.extend(utf16_bytes("sp1"));
        rollback.push(0);
        assert_eq!(
            parse_transaction_manager(&request(8, &rollback), TDS_74).unwrap(),
            TransactionRequest::Rollback {
                name: "sp1".into(),
                begin_after: false
            }
        );
        assert_eq!(
            parse_transaction_manager(&request(7, &[0, 0]), TDS_74).unwrap(),
            TransactionRequest::Commit {
                name: String::new(),
                begin_after: false
            }
        );
        // A length counted in characters leaves bytes over (or splits a UTF-16 unit): refused, not guessed.
        let mut by_chars = vec![3u8];
        by_chars.extend(utf16_bytes("sp1"));
        assert!(parse_transaction_manager(&request(9, &by_chars), TDS_74).is_err());
        assert!(parse_transaction_manager(&[4, 0, 0, 0, 1, 0], TDS_74).is_err());
    }

    #[test]
    fn truncated_rpc_is_an_error() {
        assert!(parse_rpc(&[4, 0, 0, 0, 0xFF, 0xFF, 10], TDS_74).is_err());
        assert!(parse_header(&[1, 1, 0, 3, 0, 0, 0, 0]).is_err());
        assert!(parse_header(&[0x42, 1, 0, 30, 0, 0, 0, 0]).is_err());
        assert!(parse_header(&[1, 1, 0, 30, 0, 0, 0, 0]).is_ok());
    }

    #[test]
    fn prelogin_response_parses_as_prelogin() {
        assert_eq!(parse_prelogin(&prelogin_response(0x01)).unwrap(), 0x01);
    }

    #[test]
    fn packetize_splits_and_marks_last() {
        let out = packetize(PACKET_TABULAR, &[7u8; 1000], 512);
        assert_eq!(out[1], 0);
        assert_eq!(u16::from_be_bytes([out[2], out[3]]), 512);
        assert_eq!(out[512 + 1], STATUS_EOM);
        assert_eq!(out.len(), 1000 + 2 * HEADER_LEN);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_prelogin(&bytes);
            let _ = parse_login7(&bytes);
            let _ = parse_sql_batch(&bytes, TDS_74);
            let _ = parse_rpc(&bytes, TDS_74);
            let _ = parse_transaction_manager(&bytes, TDS_74);
            let _ = parse_transaction_manager(&bytes, TDS_71);
            if bytes.len() >= HEADER_LEN {
                let mut header = [0u8; HEADER_LEN];
                header.copy_from_slice(&bytes[..HEADER_LEN]);
                let _ = parse_header(&header);
            }
        }

        #[test]
        fn rpc_parser_survives_mutated_valid_input(flip in 0usize..40, byte in any::<u8>()) {
            let mut payload = vec![4, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 0, 3];
            payload.extend(utf16_bytes("@P1"));
            payload.extend_from_slice(&[0, 0xE7, 0x40, 0x1F, 9, 4, 0xD0, 0, 0x34, 4, 0, b'h', 0, b'i', 0]);
            if flip < payload.len() {
                payload[flip] = byte;
            }
            let _ = parse_rpc(&payload, TDS_74);
        }
    }
}
