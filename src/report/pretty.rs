//! serde_json's pretty printing (two-space indent), byte for byte, with fewer writes:
//! a report of thousands of findings made over a million `write_all` calls through the
//! `dyn Write`, one per indentation level of every line.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// What `serde_json::to_writer_pretty` writes.
pub(crate) fn to_writer_pretty<T: Serialize + ?Sized>(
    out: &mut dyn Write,
    value: &T,
) -> io::Result<()> {
    // A concrete writer, so that serde's many small writes are inlined copies.
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Pretty::default());
    value.serialize(&mut ser).map_err(io::Error::from)?;
    buf.flush()
}

/// serde_json's `PrettyFormatter` with a newline and its indentation written at once.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

/// A newline and the indentation of up to 64 levels.
const LINE: [u8; 129] = {
    let mut line = [b' '; 129];
    line[0] = b'\n';
    line
};

fn newline<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
    match LINE.get(..1 + 2 * depth) {
        Some(line) => w.write_all(line),
        None => {
            w.write_all(b"\n")?;
            (0..depth).try_for_each(|_| w.write_all(b"  "))
        }
    }
}

impl Pretty {
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            newline(w, self.depth)?;
        }
        w.write_all(bracket)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        newline(w, self.depth)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        newline(w, self.depth)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_serde_json_writes() {
        let deep = (0..70).fold(
            serde_json::json!([]),
            |v, i| serde_json::json!({ "k": [v, i] }),
        );
        let values = [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({ "a": [], "b": {}, "c": [1, [2, {}], { "d": "e\n\"" }], "f": null }),
            serde_json::json!([[[]], [{}], 1.5, true]),
            deep,
        ];
        for v in values {
            let mut ours = Vec::new();
            to_writer_pretty(&mut ours, &v).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
        }
    }
}
