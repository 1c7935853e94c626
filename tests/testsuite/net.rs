//! The network layer: name resolution (injected), connect, TLS with rcgen certificates,
//! timeouts and the run deadline, proxies, broken answers, body cap, plain http refusal.
//! Bounds on time are wide and only guard against hangs.

use crate::fakes::*;
use leadcheck::net::{Net, NetOptions, ProxySettings, StaticResolver};
use leadcheck::report::Status;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tls_dest(fake: &Fake) -> leadcheck::config::Destination {
    https_dest("tls", &fake.https_url("leads.test", "/hook"))
}

fn with_ca(ca: &Ca) -> leadcheck::diagnose::Options {
    let mut o = options(&["leads.test"]);
    let pem = ca.pem();
    o.extra_roots = rustls_pemfile::certs(&mut pem.as_bytes())
        .map(|c| c.unwrap())
        .collect();
    o
}

#[test]
fn a_name_that_does_not_resolve_is_lc202() {
    let r = one(
        https_dest("x", "https://leads.nothing.invalid/hook"),
        &options(&[]),
    );
    assert_eq!(r.status, Status::Fail);
    assert_eq!(steps(&r), ["lint:pass", "url:pass", "dns:fail"]);
    assert_eq!(codes(&r), ["LC202"]);
    assert!(r.findings[0].evidence.contains("leads.nothing.invalid"));
}

#[test]
fn plain_http_to_a_public_host_is_refused_before_any_connection() {
    let fake = Fake::always(Reply::new(202));
    // Even when the name leads to a server, nothing is sent over plain http.
    let url = format!("http://leads.example.com:{}/hook", fake.addr.port());
    let r = one(https_dest("x", &url), &options(&["leads.example.com"]));
    assert_eq!(codes(&r), ["LC104"]);
    assert_eq!(steps(&r), ["lint:pass", "url:fail"]);
    assert_eq!(fake.count(), 0);
}

#[test]
fn connection_refused_is_lc203() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = one(
        https_dest("x", &format!("http://127.0.0.1:{port}/hook")),
        &options(&[]),
    );
    assert_eq!(
        steps(&r),
        ["lint:pass", "url:pass", "dns:pass", "connect:fail"]
    );
    assert_eq!(codes(&r), ["LC203"]);
}

#[test]
fn valid_certificate_via_extra_ca_passes() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["leads.test"], -1, 200), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &with_ca(&ca));
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(
        steps(&r),
        [
            "lint:pass",
            "url:pass",
            "dns:pass",
            "connect:pass",
            "tls:pass",
            "send:pass",
            "verify:skip"
        ]
    );
    assert_eq!(fake.count(), 1);
}

#[test]
fn untrusted_without_the_extra_ca_is_lc204() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["leads.test"], -1, 200), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &options(&["leads.test"]));
    assert_eq!(codes(&r), ["LC204"]);
    assert!(steps(&r).contains(&"tls:fail".to_string()));
    assert_eq!(fake.count(), 0);
}

#[test]
fn self_signed_is_lc204() {
    let fake = Fake::https(&self_signed(&["leads.test"]), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &options(&["leads.test"]));
    assert_eq!(codes(&r), ["LC204"]);
}

#[test]
fn expired_is_lc205() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["leads.test"], -60, -2), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &with_ca(&ca));
    assert_eq!(codes(&r), ["LC205"]);
}

#[test]
fn wrong_host_is_lc206() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["other.example"], -1, 200), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &with_ca(&ca));
    assert_eq!(codes(&r), ["LC206"]);
}

#[test]
fn expiring_soon_is_a_warning_lc207_and_strict_fails() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["leads.test"], -1, 10), |_| Reply::new(202));
    let r = one(tls_dest(&fake), &with_ca(&ca));
    assert_eq!(r.status, Status::Warn, "{r:#?}");
    assert_eq!(codes(&r), ["LC207"]);
    assert!(
        steps(&r).contains(&"send:pass".to_string()),
        "a warning does not stop the chain"
    );
    let mut strict = with_ca(&ca);
    strict.strict = true;
    assert_eq!(one(tls_dest(&fake), &strict).status, Status::Fail);
}

#[test]
fn slow_server_times_out_with_lc209() {
    let fake = Fake::always(Reply::new(202).delay(Duration::from_secs(30)));
    let mut o = options(&[]);
    o.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let r = one(https_dest("slow", &fake.url("/hook")), &o);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended within bounds"
    );
    assert_eq!(codes(&r), ["LC209"]);
    assert_eq!(r.checks.last().unwrap().id, "send");
}

#[test]
fn the_run_deadline_cuts_with_lc210_and_reports_the_rest() {
    let fake = Fake::always(Reply::new(202).delay(Duration::from_secs(30)));
    let mut o = options(&[]);
    o.timeout = Duration::from_secs(20);
    o.deadline = Duration::from_secs(1);
    let started = Instant::now();
    let r = one(https_dest("slow", &fake.url("/hook")), &o);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended within bounds"
    );
    assert_eq!(codes(&r), ["LC210"]);
    let s = steps(&r);
    assert_eq!(
        s,
        [
            "lint:pass",
            "url:pass",
            "dns:pass",
            "connect:pass",
            "send:fail",
            "verify:skip"
        ],
        "remaining steps are reported, and only those that apply"
    );
}

#[test]
fn proxy_refusing_the_tunnel_is_lc212_and_steps_say_via_proxy() {
    let proxy = Fake::always(Reply::new(407).header("proxy-authenticate", "Basic realm=\"corp\""));
    let mut o = options(&["leads.test"]);
    o.proxy = ProxySettings {
        https: Some(
            url::Url::parse(&format!("http://corp%5Cuser:PROXY%2BPW@{}", proxy.addr)).unwrap(),
        ),
        http: None,
        no_proxy: vec![],
    };
    let r = one(https_dest("p", "https://leads.test/hook"), &o);
    assert_eq!(codes(&r), ["LC212"], "{r:#?}");
    use base64::Engine;
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("corp\\user:PROXY+PW")
    );
    assert_eq!(
        proxy.last().unwrap().header("proxy-authorization"),
        Some(want.as_str())
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains("PROXY"),
        "the proxy password never shows: {json}"
    );
    let dns = r.checks.iter().find(|c| c.id == "dns").unwrap();
    assert!(dns.title.contains("via proxy 127.0.0.1"), "{}", dns.title);
    assert_eq!(proxy.last().unwrap().method, "CONNECT");
}

/// A server that promises 100 bytes, sends 3 and closes.
fn broken_server() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
        }
    });
    addr
}

#[test]
fn a_connection_broken_mid_answer_is_lc213() {
    let addr = broken_server();
    let r = one(
        https_dest("b", &format!("http://{addr}/hook")),
        &options(&[]),
    );
    assert_eq!(codes(&r), ["LC213"], "{r:#?}");
}

#[test]
fn bodies_are_read_up_to_one_mebibyte() {
    let big = vec![b'x'; 5 * 1024 * 1024];
    let fake = Fake::always(Reply::new(200).body(big));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resp = rt.block_on(async {
        let mut o = NetOptions::new(
            Duration::from_secs(5),
            tokio::time::Instant::now() + Duration::from_secs(20),
        );
        o.resolver = Arc::new(StaticResolver::new());
        o.proxy = ProxySettings::none();
        let net = Net::new(o).unwrap();
        let req = net
            .request(
                reqwest::Method::GET,
                url::Url::parse(&fake.url("/big")).unwrap(),
            )
            .build()
            .unwrap();
        net.send(req).await.unwrap()
    });
    assert!(resp.truncated);
    assert_eq!(resp.body.len(), leadcheck::net::BODY_CAP);
}

#[test]
fn verbose_log_redacts_the_url() {
    let fake = Fake::always(Reply::new(202));
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let mut o = options(&[]);
    o.log = Some(Arc::new(move |l| sink.lock().unwrap().push(l)));
    let r = one(
        https_dest("v", &fake.url("/hook?sig=CANARY1&code=CANARY2&x=1")),
        &o,
    );
    assert_eq!(r.status, Status::Pass);
    let all = lines.lock().unwrap().join("\n");
    assert!(all.contains("> POST http://127.0.0.1:"), "{all}");
    assert!(all.contains("sig=<redacted>&code=<redacted>&x=1"), "{all}");
    assert!(all.contains("< 202"), "{all}");
    assert!(
        all.contains("* Connect to 127.0.0.1:") && all.contains("[pass]"),
        "the probe steps are logged too: {all}"
    );
    assert!(!all.contains("CANARY"), "{all}");
}

#[test]
fn through_a_proxy_the_steps_probe_the_proxy_and_tls_runs_in_the_tunnel() {
    let ca = Ca::new();
    let fake = Fake::https(&ca.leaf(&["leads.test"], -1, 200), |_| Reply::new(202));
    let (proxy, seen) = connect_proxy();
    let mut o = with_ca(&ca);
    // The name is not resolvable here: only the proxy resolves it.
    o.resolver = Arc::new(StaticResolver::new());
    o.proxy = ProxySettings {
        https: Some(url::Url::parse(&format!("http://{proxy}")).unwrap()),
        http: None,
        no_proxy: vec![],
    };
    let r = one(tls_dest(&fake), &o);
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    for id in ["dns", "connect", "tls"] {
        let c = r.checks.iter().find(|c| c.id == id).unwrap();
        assert!(c.title.contains("via proxy 127.0.0.1"), "{}", c.title);
    }
    let target = format!("leads.test:{}", fake.addr.port());
    assert_eq!(
        *seen.lock().unwrap(),
        [target.clone(), target],
        "the probe and the request both tunnel"
    );
    assert_eq!(fake.count(), 1);

    // NO_PROXY sends it direct (and then the name must resolve: it does not here).
    o.proxy.no_proxy = vec!["leads.test".into()];
    let r = one(tls_dest(&fake), &o);
    assert_eq!(codes(&r), ["LC202"]);
}

#[test]
fn the_probe_refuses_plain_http_to_a_public_host_too() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = rt.block_on(async {
        let mut o = NetOptions::new(
            Duration::from_secs(5),
            tokio::time::Instant::now() + Duration::from_secs(20),
        );
        // Would resolve, if asked: it must not be asked.
        o.resolver = Arc::new(
            StaticResolver::new().with("leads.example.com", ["127.0.0.1".parse().unwrap()]),
        );
        o.proxy = ProxySettings::none();
        let net = Net::new(o).unwrap();
        let mut run = leadcheck::destination::Run::new();
        let ok = net
            .probe(
                &mut run,
                &url::Url::parse("http://leads.example.com/x").unwrap(),
            )
            .await;
        assert!(!ok);
        run
    });
    assert_eq!(run.findings[0].code, "LC104");
    assert_eq!(run.checks.len(), 1);
}
