//! Reading configs: leadcheck.toml, Partner Center JSON, flags; parse errors are exit 2 with
//! file:line:col, what is wrong and what is expected.

use crate::support::{fixture, leadcheck};
use predicates::str::contains;

fn lint_config(name: &str) -> assert_cmd::assert::Assert {
    leadcheck()
        .current_dir(fixture("config"))
        .args(["lint", "--config", name])
        .assert()
}

#[test]
fn toml_syntax_error_says_where() {
    lint_config("syntax.toml")
        .code(2)
        .stderr(contains("error: syntax.toml:3:"))
        .stderr(contains("invalid TOML"));
}

#[test]
fn unknown_field_suggests_the_right_one() {
    lint_config("unknown-field.toml")
        .code(2)
        .stderr(contains(
            "unknown-field.toml:3:1: unknown field `instance_uri` in destination `crm`",
        ))
        .stderr(contains("did you mean `instance_url`?"));
}

#[test]
fn missing_type_wrong_type_unknown_type() {
    lint_config("no-type.toml").code(2).stderr(contains(
        "no-type.toml:1:14: destination `crm` has no `type`",
    ));
    lint_config("wrong-type.toml")
        .code(2)
        .stderr(contains(
            "wrong-type.toml:3:21: `object_identifier` is an integer",
        ))
        .stderr(contains("expected a string"));
    lint_config("unknown-type.toml")
        .code(2)
        .stderr(contains("unknown destination type \"sharepoint\""));
}

#[test]
fn json_syntax_error_says_where() {
    lint_config("pc-syntax.json")
        .code(2)
        .stderr(contains("pc-syntax.json:4:3: invalid JSON"));
}

#[test]
fn missing_files() {
    lint_config("nonexistent.toml")
        .code(2)
        .stderr(contains("cannot read the config file nonexistent.toml"));
    let dir = tempfile::tempdir().unwrap();
    leadcheck()
        .current_dir(dir.path())
        .arg("lint")
        .assert()
        .code(2)
        .stderr(contains("leadcheck init"));
}

#[test]
fn env_var_names_the_config() {
    leadcheck()
        .current_dir(fixture("config"))
        .env("LEADCHECK_CONFIG", "pc-ingestion.json")
        .args(["lint", "--json"])
        .assert()
        .code(0)
        .stdout(contains("\"type\": \"azure-table\""));
}

#[test]
fn partner_center_ingestion_api_json() {
    let out = lint_config("pc-ingestion.json").code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    // Pasted as is, the key sits in the file: a plain-text warning, nothing else.
    assert!(text.contains("warning[LC105]"), "{text}");
    assert!(
        !text.contains("Q0FOQVJZ"),
        "the key must not be shown: {text}"
    );
}

#[test]
fn partner_center_lead_destination_json() {
    lint_config("pc-lead-destination.json")
        .code(1)
        .stdout(contains("error[LC304]"))
        .stdout(contains("--> pc-lead-destination.json:12:5"))
        .stdout(contains("CANARY").not());
}

#[test]
fn cloud_partner_portal_json_with_no_destination() {
    lint_config("pc-cpp.json")
        .code(0)
        .stdout(contains("warning[LC117]"));
}

#[test]
fn names_select_destinations() {
    let out = leadcheck()
        .current_dir(fixture("config"))
        .env("LC_FIXTURE_SECRET", "s")
        .args(["lint", "-c", "valid.toml", "--json", "web", "crm"])
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let names: Vec<&str> = v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "crm"]);
    lint_config("valid.toml").code(1); // the unset env secrets are LC106
    leadcheck()
        .current_dir(fixture("config"))
        .args(["lint", "-c", "valid.toml", "crn"])
        .assert()
        .code(2)
        .stderr(contains("no destination named `crn`"))
        .stderr(contains("did you mean `crm`?"))
        .stderr(contains("crm, web, forms, table, flow"));
}

#[test]
fn flags_instead_of_a_file() {
    leadcheck()
        .args([
            "lint",
            "--type",
            "salesforce",
            "--object-identifier",
            "00D36000000qRha",
        ])
        .assert()
        .code(0)
        .stdout(contains("salesforce (salesforce): pass"));
    leadcheck()
        .args(["lint", "--type", "https", "--table", "x"])
        .assert()
        .code(2)
        .stderr(contains("--table does not apply to --type https"));
    // A literal secret flag works, with a warning; `-` reads standard input.
    leadcheck()
        .args([
            "lint",
            "--type",
            "azure-table",
            "--storage-account-connection-string",
            "UseDevelopmentStorage=true",
        ])
        .assert()
        .code(0)
        .stdout(contains("warning[LC105]"))
        .stdout(contains(
            "--storage-account-connection-string was given as a literal",
        ));
    leadcheck()
        .args([
            "lint",
            "--type",
            "azure-table",
            "--storage-account-connection-string",
            "-",
            "--json",
        ])
        .write_stdin("DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=Q0FOQVJZLWtleS1DQU5BUlk=\n")
        .assert()
        .code(0)
        .stdout(contains("\"findings\": []"));
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn init_writes_a_template_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["dynamics", "salesforce", "marketo", "azure-table", "https"] {
        let file = format!("{kind}.toml");
        leadcheck()
            .current_dir(dir.path())
            .args(["init", "--type", kind, "-o", &file])
            .assert()
            .code(0)
            .stderr(contains(format!("wrote {kind}.toml")));
        // It parses (not exit 2); what lint finds is only what is left to fill in.
        let out = leadcheck()
            .current_dir(dir.path())
            .args(["lint", "--json", "-c", &file])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = v["destinations"][0]["findings"].as_array().unwrap().clone();
        assert!(
            !findings.is_empty(),
            "{kind}: an empty template has values to fill in"
        );
        for f in findings {
            assert!(
                ["LC102", "LC106"].contains(&f["code"].as_str().unwrap()),
                "{kind}: {f}"
            );
        }
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    leadcheck()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(0);
    let first = std::fs::read_to_string(dir.path().join("leadcheck.toml")).unwrap();
    assert!(first.contains("type = \"https\""));
    leadcheck()
        .current_dir(dir.path())
        .args(["init", "--type", "dynamics"])
        .assert()
        .code(2)
        .stderr(contains("leadcheck.toml already exists"))
        .stderr(contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("leadcheck.toml")).unwrap(),
        first
    );
    leadcheck()
        .current_dir(dir.path())
        .args(["init", "--type", "dynamics", "--force"])
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(dir.path().join("leadcheck.toml"))
        .unwrap()
        .contains("type = \"dynamics\""));
    leadcheck()
        .current_dir(dir.path())
        .args(["init", "--type", "marketo", "-o", "-"])
        .assert()
        .code(0)
        .stdout(contains("[destination.marketo]"));
}

mod never_panic {
    use leadcheck::config::{connection_string, partner_center, toml_file};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever the file holds, reading it ends in a config or an error with a location.
        #[test]
        fn toml_reader(text in "(\\[destination\\.[a-z]{1,3}\\]\n|type = \"(https|dynamics|x)\"\n|[a-z_]{1,20} = (\"[^\"\n]{0,12}\"|[0-9]{1,4}|\\{ (env|file) = \"[A-Z]{1,4}\" \\}|\\[\\])\n|.{0,10}\n){0,8}") {
            if let Err(e) = toml_file::parse(&text, "f.toml", None) {
                prop_assert!(e.location.is_some());
            }
        }

        #[test]
        fn json_reader(text in "\\{(\"(leadDestination|resourceType|contactEmail|[a-zA-Z]{1,12})\":(\"[a-zA-Z]{0,30}\"|[0-9]{1,3}|null|\\[\\]|\\{\\}),?){0,5}\\}?") {
            let _ = partner_center::parse(&text, "f.json");
        }

        /// Errors never carry the key.
        #[test]
        fn connection_strings(name in "[a-zA-Z0-9]{0,30}", key in "[A-Za-z0-9+/=*]{8,40}", extra in "(;[A-Za-z]{1,20}=?[a-z0-9.]{0,10}){0,3}") {
            let s = format!("DefaultEndpointsProtocol=https;AccountName={name};AccountKey=SECRET{key}{extra}");
            if let Err(e) = connection_string::parse(&s) {
                prop_assert!(!e.contains("SECRET"), "{}", e);
            }
        }
    }
}
