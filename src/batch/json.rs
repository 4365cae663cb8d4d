//! An event as JSON text without a `serde_json::Value` in between: the
//! same text `serde_json::to_string(&serde_json::to_value(e))` gives —
//! object keys in sorted order (what `Value`'s map does, and what
//! scripts have always seen), a repeated key (`flatten`) once with its
//! last value, `f32` written as the `f64` it widens to — at a fraction
//! of the cost: no tree of strings and maps built and torn down per
//! event (a 10,000-occupant join printed 10,000 of them).
//!
//! Scalars and strings are written by `serde_json` itself (the same
//! escapes); only objects are buffered, to sort their members. What
//! `Value` could not represent either (128-bit integers, keys that are
//! not strings or numbers) is an error, and the caller falls back to
//! `Value`.

use std::borrow::Cow;
use std::ops::Range;

use serde::Serialize;
use serde::ser::{self, Error as _, Impossible};
use serde_json::Error;

/// `value` as JSON text, objects' keys sorted.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut out = Vec::with_capacity(256);
    value.serialize(Ser { out: &mut out })?;
    // Only `serde_json`'s own output and the keys it wrote: UTF-8.
    String::from_utf8(out).map_err(Error::custom)
}

fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), Error> {
    serde_json::to_writer(out, v)
}

/// A member's key: as it is when `serde_json` would write it so (no
/// control character, quote or backslash: every key of an event), else
/// by `serde_json`.
fn write_key(out: &mut Vec<u8>, key: &str) -> Result<(), Error> {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(key.len() + 2);
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        write(out, key)
    }
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
}

/// An object being gathered: its members' values written one after the
/// other into `buf`, sorted by key at the end. `variant`: the object is
/// the value of `{"variant": …}` (a struct variant).
struct Object<'a> {
    out: &'a mut Vec<u8>,
    variant: Option<&'static str>,
    buf: Vec<u8>,
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    key: Option<String>,
}

/// An array written as it comes; `variant` as for [`Object`].
struct Array<'a> {
    out: &'a mut Vec<u8>,
    variant: Option<&'static str>,
    first: bool,
}

fn open_variant(out: &mut Vec<u8>, variant: &str) -> Result<(), Error> {
    out.push(b'{');
    write(out, variant)?;
    out.push(b':');
    Ok(())
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>, len: usize) -> Object<'a> {
        Object {
            out,
            variant,
            buf: Vec::with_capacity(len * 16),
            members: Vec::with_capacity(len),
            key: None,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        let start = self.buf.len();
        value.serialize(Ser { out: &mut self.buf })?;
        self.members.push((key, start..self.buf.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        // Stable: of members with the same key the last one is kept.
        self.members.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(v) = self.variant {
            open_variant(self.out, v)?;
        }
        self.out.push(b'{');
        let mut first = true;
        for (i, (key, range)) in self.members.iter().enumerate() {
            if self.members.get(i + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_key(self.out, key.as_ref())?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.buf[range.clone()]);
        }
        self.out.push(b'}');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> Array<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>) -> Result<Array<'a>, Error> {
        if let Some(v) = variant {
            open_variant(out, v)?;
        }
        out.push(b'[');
        Ok(Array {
            out,
            variant,
            first: true,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Ser { out: self.out })
    }

    fn finish(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

macro_rules! scalars {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<(), Error> {
            write(self.out, &v)
        })*
    };
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    scalars!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f64: f64, serialize_char: char, serialize_str: &str,
        serialize_bytes: &[u8]);

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // `Value` keeps an f32 as the f64 it widens to.
        write(self.out, &(v as f64))
    }

    fn serialize_i128(self, _: i128) -> Result<(), Error> {
        Err(Error::custom("128-bit integer"))
    }

    fn serialize_u128(self, _: u128) -> Result<(), Error> {
        Err(Error::custom("128-bit integer"))
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        write(self.out, v)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        open_variant(self.out, variant)?;
        v.serialize(Ser { out: self.out })?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }

    fn serialize_tuple(self, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Error> {
        Array::new(self.out, Some(variant))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, None, len.unwrap_or(8)))
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, None, len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, Some(variant), len))
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::custom("a map value without a key"))?;
        self.member(Cow::Owned(key), v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.member(Cow::Borrowed(key), v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.member(Cow::Borrowed(key), v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// A map key as `Value` takes it: a string, or a number or bool written
/// as one; anything else is an error (and the caller uses `Value`, which
/// refuses it too).
struct KeySer;

macro_rules! keys {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<String, Error> {
            Ok(v.to_string())
        })*
    };
}

macro_rules! no_keys {
    ($($f:ident$(: $t:ty)?),*) => {
        $(fn $f(self $(, _: $t)?) -> Result<String, Error> {
            Err(Error::custom("a key that is not a string"))
        })*
    };
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    keys!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_char: char, serialize_str: &str);
    no_keys!(serialize_f32: f32, serialize_f64: f64, serialize_i128: i128,
        serialize_u128: u128, serialize_bytes: &[u8], serialize_none, serialize_unit);

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::custom("a key that is not a string"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::custom("a key that is not a string"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde_json::json;

    use super::*;

    fn via_value<T: Serialize>(v: &T) -> String {
        serde_json::to_string(&serde_json::to_value(v).unwrap()).unwrap()
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: u8,
        alpha: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[derive(Serialize)]
    #[serde(tag = "event", rename_all = "kebab-case")]
    enum Ev {
        Plain {
            room: String,
            #[serde(rename = "self")]
            is_self: bool,
            level: f32,
            big: u64,
            neg: i64,
            inner: Inner,
            list: Vec<Inner>,
            tuple: (u8, &'static str),
            unit: (),
        },
        Flat {
            zz: u8,
            #[serde(flatten)]
            inner: Inner,
            #[serde(flatten)]
            extra: BTreeMap<String, u8>,
        },
        Empty {},
    }

    #[derive(Serialize)]
    enum Outer {
        Unit,
        New(u8),
        Tup(u8, u8),
        Rec { b: u8, a: u8 },
    }

    #[test]
    fn the_same_text_as_through_value() {
        let inner = |z| Inner {
            zeta: z,
            alpha: Some("a\"\\\n\u{1b}ü\u{202e}".into()),
            skipped: None,
        };
        let plain = Ev::Plain {
            room: "r@c".into(),
            is_self: true,
            level: 0.42,
            big: u64::MAX,
            neg: -5,
            inner: inner(1),
            list: vec![inner(2), inner(3)],
            tuple: (1, "x"),
            unit: (),
        };
        // `alpha` overlaps `extra`'s key: the later value wins, as in Value.
        let flat = Ev::Flat {
            zz: 1,
            inner: inner(4),
            extra: [("alpha".to_string(), 9), ("b".to_string(), 2)].into(),
        };
        let mut keyed = HashMap::new();
        keyed.insert(3u32, "three");
        keyed.insert(10u32, "ten");
        let cases = [
            to_string(&plain).unwrap() == via_value(&plain),
            to_string(&flat).unwrap() == via_value(&flat),
            to_string(&Ev::Empty {}).unwrap() == via_value(&Ev::Empty {}),
            to_string(&keyed).unwrap() == via_value(&keyed),
            to_string(&vec![
                Outer::Unit,
                Outer::New(1),
                Outer::Tup(1, 2),
                Outer::Rec { b: 1, a: 2 },
            ])
            .unwrap()
                == via_value(&vec![
                    Outer::Unit,
                    Outer::New(1),
                    Outer::Tup(1, 2),
                    Outer::Rec { b: 1, a: 2 },
                ]),
            to_string(&json!({"z": [1.5, null, {"b": 1, "a": f64::NAN}], "a": "x"})).unwrap()
                == via_value(&json!({"z": [1.5, null, {"b": 1, "a": f64::NAN}], "a": "x"})),
            to_string(&f32::NAN).unwrap() == via_value(&f32::NAN),
            // Keys that need escaping, and the plain ones beside them.
            to_string(&json!({"q\"k": 1, "b\\s": 2, "c\u{1}": 3, "ü\u{7f}": 4, "p": 5})).unwrap()
                == via_value(&json!({"q\"k": 1, "b\\s": 2, "c\u{1}": 3, "ü\u{7f}": 4, "p": 5})),
        ];
        for (i, same) in cases.iter().enumerate() {
            assert!(same, "case {i}");
        }
        assert_eq!(
            to_string(&plain).unwrap(),
            via_value(&plain),
            "spelled out once"
        );
    }

    #[test]
    fn what_value_refuses_is_an_error() {
        assert!(to_string(&(1u128 << 100)).is_err());
        let mut odd = BTreeMap::new();
        odd.insert(vec![1u8], 1);
        assert!(to_string(&odd).is_err());
        assert!(serde_json::to_value(&odd).is_err());
    }
}
