//! Domain verification's DNS: Roster's resolver against a real DNS server
//! on loopback, as `ROSTER_DNS_RESOLVER` points it there.

use api::dns::TxtResolver;
use domain::email_domain::{EmailDomain, VerificationToken};
use integration_tests::dns::DnsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_record_is_found_at_once_and_a_missing_one_is_not() {
    let server = DnsServer::start().await;
    let resolver = TxtResolver::new(Some(server.address)).unwrap();
    let token = VerificationToken::parse(&"t".repeat(32)).unwrap();
    let record = EmailDomain::parse("acme.example").unwrap().verification_record(&token);
    assert!(resolver.txt(&record.name).await.unwrap().is_empty(), "nothing published: no such name");

    let split = vec!["roster-verification=".to_owned(), "t".repeat(32)];
    server.publish_txt(&record.name, vec![vec!["v=spf1 -all".to_owned()], split]);
    let found = resolver.txt(&record.name).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(record.found_in(&found), "{found:?}");

    // Changed or removed, the record is seen as it is now (no cache).
    server.publish_txt(&record.name, vec![vec![format!("roster-verification={}", "x".repeat(32))]]);
    assert!(!record.found_in(&resolver.txt(&record.name).await.unwrap()), "another token proves nothing");
    server.remove(&record.name);
    assert!(resolver.txt(&record.name).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_does_not_answer_is_a_failure_not_a_missing_record() {
    // A port with nobody behind it.
    let address = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let resolver = TxtResolver::new(Some(address)).unwrap();
    let started = std::time::Instant::now();
    let failed = resolver.txt("_roster-verification.acme.example").await.unwrap_err();
    assert!(failed.to_string().contains("_roster-verification.acme.example"), "{failed}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "gave up after {:?}", started.elapsed());
}
