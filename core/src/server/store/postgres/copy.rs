//! Rows in PostgreSQL's binary `COPY` format: the fastest way in, with no
//! text formatting or parsing of numbers on either side.

use super::time::Ts;

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Null,
    Int4(i32),
    Int8(i64),
    Float8(f64),
    Bool(bool),
    Text(&'a str),
    Bytes(&'a [u8]),
    Time(Ts),
}

impl<'a> From<Option<f64>> for Field<'a> {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Field::Null, Field::Float8)
    }
}

impl<'a> From<Option<bool>> for Field<'a> {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Field::Null, Field::Bool)
    }
}

impl<'a> From<Option<&'a str>> for Field<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Field::Null, Field::Text)
    }
}

/// A binary COPY stream being written.
pub struct CopyWriter {
    buf: Vec<u8>,
}

impl Default for CopyWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CopyWriter {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(1 << 20);
        // Signature, flags (no OIDs), header extension length.
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        CopyWriter { buf }
    }

    pub fn row(&mut self, fields: &[Field<'_>]) {
        self.buf
            .extend_from_slice(&(fields.len() as i16).to_be_bytes());
        for f in fields {
            let mut put = |bytes: &[u8]| {
                self.buf
                    .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                self.buf.extend_from_slice(bytes);
            };
            match f {
                Field::Null => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
                Field::Int4(v) => put(&v.to_be_bytes()),
                Field::Int8(v) => put(&v.to_be_bytes()),
                Field::Float8(v) => put(&v.to_be_bytes()),
                Field::Bool(v) => put(&[u8::from(*v)]),
                Field::Text(v) => put(v.as_bytes()),
                Field::Bytes(v) => put(v),
                Field::Time(t) => put(&t.to_pg().to_be_bytes()),
            }
        }
    }

    /// The bytes written so far, taken out (the stream goes on after them).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    pub fn buffered_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The trailer that ends the stream, with whatever is still buffered.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}
