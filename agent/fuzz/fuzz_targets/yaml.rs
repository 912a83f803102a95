//! blackbox.yml and web-config.yml are written by hand and reread on
//! reload, so the YAML reader must turn any text into a tree or one error,
//! never a panic, within its documented bounds: every line it names
//! exists, lines never go backwards in file order, nesting and node count
//! stay under their constants, a mapping's keys are unique, and scalars
//! and keys together hold at most 1.5 bytes per input byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::yaml::{parse, Node, Value, MAX_DEPTH, MAX_NODES};

struct Walk {
    max_line: usize,
    text_bytes: usize,
    last_line: usize,
    nodes: usize,
}

impl Walk {
    fn line(&mut self, line: usize) {
        assert!((1..=self.max_line).contains(&line), "line {line} of {}", self.max_line);
        assert!(line >= self.last_line, "line {line} after {}", self.last_line);
        self.last_line = line;
    }

    fn node(&mut self, node: &Node, depth: usize) {
        self.nodes += 1;
        self.line(node.line);
        // The helpers read any scalar without panicking.
        let _ = (node.as_str(), node.as_bool(), node.as_int(), node.as_f64(), node.is_null(), node.type_name());
        match &node.value {
            Value::Null => {}
            Value::Scalar { text, .. } => self.text_bytes += text.len(),
            Value::Seq(items) => {
                assert!(depth < MAX_DEPTH, "depth {depth}");
                for item in items {
                    self.node(item, depth + 1);
                }
            }
            Value::Map(entries) => {
                assert!(depth < MAX_DEPTH, "depth {depth}");
                let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.text.as_str()).collect();
                keys.sort_unstable();
                assert!(keys.windows(2).all(|w| w[0] != w[1]), "duplicate key in {keys:?}");
                for (key, value) in entries {
                    self.line(key.line);
                    self.text_bytes += key.text.len();
                    self.node(value, depth + 1);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The reader counts '\n'; the last line is that count + 1.
    let max_line = text.matches('\n').count() + 1;
    match parse(text) {
        Ok(root) => {
            let mut walk = Walk { max_line, text_bytes: 0, last_line: 1, nodes: 0 };
            walk.node(&root, 0);
            assert!(walk.nodes <= MAX_NODES, "{} nodes", walk.nodes);
            // \L (2 bytes) reads as U+2028 (3 bytes): the most any input grows.
            assert!(walk.text_bytes * 2 <= text.len() * 3, "{} bytes from {}", walk.text_bytes, text.len());
        }
        Err(e) => assert!(e.line <= max_line, "error line {} of {max_line}: {}", e.line, e.what),
    }
});
