//! Keeps scenarios/README.md true: every `ron` example in it loads and validates.

#[test]
fn every_example_in_the_scenario_reference_loads() {
    let doc = include_str!("../scenarios/README.md");
    let mut examples = 0;
    let mut rest = doc;
    while let Some(start) = rest.find("```ron\n") {
        let body = &rest[start + 7..];
        let end = body.find("```").expect("closed code block");
        let text = &body[..end];
        let variants =
            nitrosim::scenario::load("scenarios/README.md", text, &[], None).unwrap_or_else(|d| panic!("{d}"));
        for v in &variants {
            nitrosim::scenario::build::build(&v.name, &v.spec).unwrap();
        }
        if text.contains("sweep:") {
            nitrosim::sweep::prepare("scenarios/README.md", text, &[]).unwrap_or_else(|d| panic!("{d}"));
        }
        examples += 1;
        rest = &body[end + 3..];
    }
    assert!(examples >= 6, "found only {examples} examples");
}
