//! docs/access.md shows the access table the code enforces, exactly.

#[test]
fn the_access_table_in_the_docs_is_the_one_in_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/access.md");
    let doc = std::fs::read_to_string(&path).expect("docs/access.md is readable");
    let table = vigil_web::access::markdown_table();
    if !doc.contains(&table) {
        if std::env::var("VIGIL_PRINT_ACCESS_TABLE").is_ok() {
            println!("{table}");
        }
        panic!(
            "docs/access.md does not contain the access table of crates/vigil-web/src/access.rs; \
             run with VIGIL_PRINT_ACCESS_TABLE=1 and --nocapture to print it"
        );
    }
}
