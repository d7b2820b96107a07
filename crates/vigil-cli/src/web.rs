//! `vigil serve` and `vigil user add`: the web service and its accounts,
//! from the command line. The work is in the `vigil-web` crate.

use crate::datadir::DataDir;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use vigil_model::codes::Role;
use vigil_model::EntityKind;
use vigil_store::Store;
use vigil_web::users::{self, NewAccount};

/// Options of `vigil serve`.
pub struct ServeArgs<'a> {
    pub addr: &'a str,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
    /// The origin browsers use (`https://vigil.example.org`); needed behind
    /// a TLS-terminating proxy and when listening on every address.
    pub public_url: Option<&'a str>,
    /// The alert rule file to load and follow (`DATA/alert-rules.toml`;
    /// the shipped defaults while it does not exist).
    pub alert_rules: Option<std::path::PathBuf>,
    /// How often the server checks for overdue work and runs the alert
    /// rules, in seconds (`None`: every minute).
    pub check_every: Option<u64>,
}

/// Serves the web interface until Ctrl-C (or SIGTERM).
pub fn serve(dir: &DataDir, database: Option<&str>, args: &ServeArgs<'_>) -> Result<()> {
    for w in dir.permission_warnings() {
        eprintln!("vigil: warning: {w}");
    }
    let scorer = crate::link_store::load_model(dir)?;
    let watch = crate::link_store::watch_model(dir);
    // A rule file that does not parse stops the server at once, with the
    // line; later edits that do not parse are reported and not used.
    let rules = dir.path.join(vigil_web::ALERT_RULES_FILE);
    if let Ok(text) = std::fs::read_to_string(&rules) {
        vigil_rules::alerts::RuleFile::parse(&text)
            .map_err(|e| anyhow!("{} cannot be used: {e}", rules.display()))?;
    }
    let out_of_hours = dir.out_of_hours()?;
    serve_store(
        Arc::from(dir.open(database)?),
        args,
        scorer,
        Some(watch),
        out_of_hours,
    )
}

/// Serves an open store until Ctrl-C (or SIGTERM); `vigil demo` can use
/// this after recording its borough and demo accounts.
pub fn serve_store(
    store: Arc<dyn Store>,
    args: &ServeArgs<'_>,
    scorer: Option<Arc<vigil_app::score::Scorer>>,
    model_watch: Option<vigil_web::ModelWatch>,
    out_of_hours: vigil_web::OutOfHours,
) -> Result<()> {
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        anyhow!(
            "'{}' is not an address to listen on; write it like 127.0.0.1:8080",
            args.addr
        )
    })?;
    let mut config = vigil_web::config_for(&addr);
    config.secure_cookies |= args.secure_cookies;
    config.trust_forwarded_for = args.trust_forwarded_for;
    config.public_origin = args.public_url.map(str::to_owned);
    config.scorer = scorer;
    config.model_watch = model_watch;
    config.out_of_hours = out_of_hours;
    config.alert_rules_file = args.alert_rules.clone();
    if let Some(every) = args.check_every {
        config.escalation_check_seconds = every;
    }
    let secure = config.secure_cookies;
    // Held until the server stops: `vigil rebuild` is refused meanwhile.
    let _serving = store.hold_serving_lock()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the web server's runtime")?;
    // The last reference to the store is dropped here, after the runtime:
    // closing a PostgreSQL connection must not happen on an async thread.
    let keep = Arc::clone(&store);
    let served = runtime.block_on(vigil_web::serve(
        store,
        addr,
        config,
        |bound| {
            // Written, not println!: whoever started the server may have
            // stopped reading its output, and that must not stop it.
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "Vigil is serving on http://{bound} (press Ctrl-C to stop)"
            );
            if !secure {
                let _ = writeln!(
                    out,
                    "  cookies are not marked Secure: this address is for this machine only"
                );
            }
            let _ = out.flush();
        },
        shutdown_signal(),
    ));
    drop(runtime);
    drop(keep);
    served.with_context(|| format!("cannot serve on {addr}"))?;
    let _ = writeln!(std::io::stdout(), "Vigil has stopped.");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Options of `vigil user add`.
pub struct AddUserArgs<'a> {
    pub username: &'a str,
    pub role: &'a str,
    pub agency: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// Creates an account with a one-time password and prints it.
pub fn add_user(dir: &DataDir, database: Option<&str>, args: &AddUserArgs<'_>) -> Result<()> {
    let store = dir.open(database)?;
    let role = Role::parse(args.role)
        .ok()
        .filter(|r| *r != Role::System)
        .ok_or_else(|| {
            anyhow!(
                "'{}' is not a role; use one of referrer, practitioner, triage, analyst, supervisor, auditor, administrator, partnership_administrator",
                args.role
            )
        })?;
    let username = args.username.to_lowercase();
    let agencies = store.entities_changed_since(&[EntityKind::Agency], None)?;
    let find = |code: &str| {
        agencies
            .iter()
            .find(|a| {
                a.as_kind::<vigil_model::state::AgencyState>()
                    .is_some_and(|s| s.code.as_str() == code)
            })
            .map(|a| a.id)
    };
    let now = chrono::Utc::now();
    let agency_id = match (args.agency, role) {
        (Some(_), Role::PartnershipAdministrator) => bail!(
            "a partnership administrator works for the partnership, not one agency: leave out --agency"
        ),
        (None, Role::PartnershipAdministrator) => users::administration_agency(store.as_ref(), now)?,
        (Some(code), _) => find(code).ok_or_else(|| {
            anyhow!("there is no agency with the code '{code}'; agencies are recorded by agency.registered events (vigil import or vigil synth)")
        })?,
        (None, Role::Administrator) => bail!(
            "an administrator manages one agency's accounts: give the agency with --agency CODE, or create the partnership's administrator with --role partnership_administrator"
        ),
        (None, _) => bail!("give the agency the user works for with --agency CODE"),
    };
    let password = vigil_web::auth::temporary_password();
    users::create_account(
        store.as_ref(),
        &users::Granter::operator(),
        &NewAccount {
            username: username.clone(),
            name: args.name.unwrap_or(&username).to_owned(),
            role,
            agency_id,
        },
        &password,
        true,
        now,
    )?;
    println!(
        "Created the account {username} ({})",
        role.label().to_lowercase()
    );
    println!("  one-time password: {password}");
    println!("  they choose their own password when they first sign in");
    Ok(())
}
