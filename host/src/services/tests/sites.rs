//! Operator services: the sites of a host and their lifecycle (PRODUCT §8).

#[test]
fn host_names_lose_their_port() {
    use crate::services::host_without_port;
    assert_eq!(host_without_port("lms.example.org:8080"), "lms.example.org");
    assert_eq!(host_without_port("localhost"), "localhost");
    assert_eq!(host_without_port("[::1]:8080"), "::1");
}
