//! Library-wide calls: versions, status names, the thread count and the
//! peak resident set.

use pcmoe::{Status, HEADER_VERSION};

#[test]
fn version_matches_header() {
    assert_eq!(pcmoe::version(), HEADER_VERSION);
    assert_eq!(HEADER_VERSION, "0.1.0");
    assert_eq!(pcmoe::PROTOCOL_VERSION, 1);
}

#[test]
fn status_names_come_from_library() {
    assert_eq!(Status::Ok.name(), "ok");
    assert_eq!(Status::InvalidArgument.name(), "invalid argument");
    assert_eq!(Status::InvalidConfig.to_string(), "invalid configuration");
    assert_eq!(Status::Other(99).name(), "unknown status");
}

#[test]
fn status_round_trips_raw_values() {
    for raw in 0..=12 {
        let status = Status::from_raw(raw);
        assert_eq!(status.to_raw(), raw);
        assert_eq!(status == Status::Other(raw), raw == 12, "status {}", raw);
        assert!(!status.name().is_empty());
    }
    assert_eq!(Status::from_raw(7), Status::Cancelled);
    assert_eq!(Status::from_raw(11), Status::Internal);
}

// The only test of this binary that changes the process-wide thread count.
#[test]
fn thread_count_checks_range() {
    let before = pcmoe::threads();
    assert!(before >= 1);

    let error = pcmoe::set_threads(0).expect_err("0 threads");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("thread count is 0"), "message: {}", error.message());
    let error = pcmoe::set_threads(1025).expect_err("1025 threads");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("1025"), "message: {}", error.message());

    pcmoe::set_threads(1).expect("1 thread");
    assert_eq!(pcmoe::threads(), 1);
    assert_eq!(pcmoe::last_error(), "");
    pcmoe::set_threads(before).expect("restore the thread count");
    assert_eq!(pcmoe::threads(), before);
}

#[test]
fn peak_resident_bytes_above_one_mebibyte() {
    assert!(pcmoe::peak_resident_bytes() > 1 << 20);
}
