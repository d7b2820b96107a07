//! The read models under concurrency: refreshes are shared between requests
//! that arrive together (one database round trip for many pages), and a
//! refresh never hands a request a view older than the request. Eight
//! threads each record an agency and at once ask for it through a refresh
//! that other threads are also running; every one must find its own.

use std::sync::{Arc, Barrier};
use vigil_ledger::LogSigner;
use vigil_model::codes::AgencyKind;
use vigil_store::{DatabaseUrl, Store};
use vigil_web::readmodel::Mirror;

const THREADS: usize = 8;
const EACH: usize = 40;

#[test]
fn a_shared_refresh_never_misses_a_change_committed_before_it_was_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("vigil.sqlite"));
    let store: Arc<dyn Store> = Arc::from(vigil_store::open(&url, LogSigner::generate()).unwrap());
    let mirror = Arc::new(Mirror::default());
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, mirror, start) = (store.clone(), mirror.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..EACH {
                    let code = format!("agency-{t}-{i}");
                    let id = vigil_web::users::register_agency(
                        store.as_ref(),
                        &code,
                        "Test agency",
                        AgencyKind::YouthService,
                        chrono::Utc::now(),
                    )
                    .unwrap();
                    mirror.refresh_all(store.as_ref()).unwrap();
                    assert!(
                        mirror.agency(id).is_some(),
                        "thread {t}: agency {i} was committed before the refresh but is not shown"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(mirror.agencies().len(), THREADS * EACH);
}
