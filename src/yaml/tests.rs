use super::*;

fn file(text: &str) -> SourceFile {
    SourceFile::new("t.yaml".into(), "t.yaml".into(), text)
}

fn slice(f: &SourceFile, s: Span) -> &str {
    &f.text[s.start as usize..s.end as usize]
}

#[test]
fn spans_of_plain_quoted_and_flow_scalars() {
    let f = file("kind: sink\nname: \"x_aud\"\nuses: [a.b, c]\n");
    let yaml = parse(&f).unwrap();
    let d = yaml.first().unwrap();
    let name = d.get("name").unwrap();
    assert_eq!(name.scalar(), Some(("x_aud", false)));
    assert_eq!(name.span().start_pos.line, 2);
    assert_eq!(name.span().start_pos.column, 7);
    let items: Vec<Node> = d.get("uses").unwrap().items().unwrap().collect();
    assert_eq!(slice(&f, items[0].span()), "a.b");
    assert_eq!(items[1].span().start_pos.column, 13);
    assert_eq!(slice(&f, d.get("kind").unwrap().span()), "sink");
    assert_eq!(d.get("kind").unwrap().scalar(), Some(("sink", true)));
}

#[test]
fn multibyte_text_in_block_scalar_keeps_later_spans_right() {
    let f = file("description: |\n  Zähler für Ñandú — ✓\n  ok\nname: données_ü\n");
    let yaml = parse(&f).unwrap();
    let d = yaml.first().unwrap();
    assert_eq!(
        d.get("description").unwrap().as_str(),
        Some("Zähler für Ñandú — ✓\nok\n")
    );
    let name = d.get("name").unwrap();
    assert_eq!(slice(&f, name.span()), "données_ü");
    assert_eq!(name.span().start_pos.line, 4);
    assert_eq!(name.span().start_pos.column, 7);
    assert_eq!(name.span().end_pos.column, 16);
}

#[test]
fn multibyte_before_span_on_same_line() {
    let f = file("{ ü: 1, näme: wert }\n");
    let yaml = parse(&f).unwrap();
    let v = yaml.first().unwrap().get("näme").unwrap();
    assert_eq!(slice(&f, v.span()), "wert");
    assert_eq!(v.span().start_pos.column, 15);
}

#[test]
fn crlf_and_multiple_documents() {
    let f = file("kind: sink\r\nname: a\r\n---\r\nkind: sink\r\nname: b\r\n");
    let yaml = parse(&f).unwrap();
    assert_eq!(yaml.documents().len(), 2);
    let b = yaml.documents().nth(1).unwrap().get("name").unwrap();
    assert_eq!(slice(&f, b.span()), "b");
    assert_eq!(b.span().start_pos.line, 5);
}

#[test]
fn empty_documents_and_nulls() {
    let f = file("---\n---\na: ~\nb:\nc: null\nd: 'null'\n");
    let yaml = parse(&f).unwrap();
    let docs: Vec<Node> = yaml.documents().collect();
    assert_eq!(docs.len(), 2);
    assert!(docs[0].is_null());
    let d = docs[1];
    for key in ["a", "b", "c"] {
        assert!(d.get(key).unwrap().is_null(), "{key}");
    }
    assert_eq!(d.get("d").unwrap().scalar(), Some(("null", false)));
    assert_eq!(d.entries().unwrap().len(), 4);
    assert_eq!(d.kind_name(), "a mapping");
}

#[test]
fn children_skip_nested_subtrees() {
    let f = file("a: [1, [2, {x: [3]}], 4]\nb: {c: {d: e}}\nf: g\n");
    let yaml = parse(&f).unwrap();
    let d = yaml.first().unwrap();
    let keys: Vec<&str> = d
        .entries()
        .unwrap()
        .map(|(k, _)| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b", "f"]);
    let a: Vec<Node> = d.get("a").unwrap().items().unwrap().collect();
    assert_eq!(a.len(), 3);
    assert_eq!(a[2].as_str(), Some("4"));
    assert_eq!(a[1].items().unwrap().len(), 2);
    assert_eq!(d.get("f").unwrap().as_str(), Some("g"));
    assert!(d.get("a").unwrap().entries().is_none());
    assert!(d.items().is_none());
}

#[test]
fn aliases_read_as_their_anchored_node() {
    let f = file("base: &b {x: 1, y: [a]}\nuse: *b\nname: &n hi\nagain: *n\n*n : key\n");
    let yaml = parse(&f).unwrap();
    let d = yaml.first().unwrap();
    let base = d.get("base").unwrap();
    let used = d.get("use").unwrap();
    assert_eq!(used.span(), base.span());
    assert_eq!(used.get("y").unwrap().items().unwrap().len(), 1);
    assert_eq!(d.get("again").unwrap().as_str(), Some("hi"));
    assert_eq!(d.get("hi").unwrap().as_str(), Some("key"));
}

#[test]
fn alias_bomb_is_rejected() {
    let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        y.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = parse(&file(&y)).unwrap_err();
    assert!(err.message.contains("alias"), "{}", err.message);
}

#[test]
fn aliases_count_their_expanded_size() {
    // 11 nodes per list, expanded: the limit falls between 9,090 and 9,091 aliases.
    let list = "[x, x, x, x, x, x, x, x, x, x]";
    let under = format!("a: &a {list}\nb: [{}]\n", vec!["*a"; 9_090].join(", "));
    assert!(parse(&file(&under)).is_ok());
    let over = format!("a: &a {list}\nb: [{}]\n", vec!["*a"; 9_091].join(", "));
    assert!(parse(&file(&over)).is_err());
    assert!(parse(&file("a: *nope\n")).is_err());
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    let y = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&file(&y)).is_err());
    let mut block = String::new();
    for i in 0..10_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    assert!(parse(&file(&block)).is_err());
    let nested = |depth: usize| {
        let lines: Vec<String> = (0..depth)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        parse(&file(&lines.concat()))
    };
    assert!(nested(MAX_DEPTH).is_ok());
    let err = nested(MAX_DEPTH + 1).unwrap_err();
    assert!(err.message.contains("nesting is deeper"), "{}", err.message);
}

#[test]
fn syntax_error_has_location() {
    let err = parse(&file("a: b\nc: [d\n")).unwrap_err();
    assert!(err.span.start_pos.line >= 2);
}
