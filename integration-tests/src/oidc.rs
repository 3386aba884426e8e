//! OpenID providers on loopback for the single sign-on tests, started the
//! way the SMTP and webhook receivers are: a real one (`oidc/provider.mjs`,
//! the npm package oidc-provider, OpenID Certified) for the happy paths,
//! and one that forges the ID tokens a test asks for (`oidc/forger.mjs`)
//! for the attacks. And a browser, as far as single sign-on needs one: it
//! follows redirects and keeps the provider's cookies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::{Reply, TestApp};

/// The frontend page single sign-on returns to in the tests
/// (`ROSTER_SSO_REDIRECT_URIS`).
pub const FRONTEND: &str = "http://frontend.test/signed-in";

/// The client the test providers know Roster as.
pub const CLIENT_ID: &str = "roster";
pub const CLIENT_SECRET: &str = "roster-test-client-secret-0123456789";

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Installs the providers' npm packages at the versions the lockfile pins,
/// once, if `make test` has not.
fn install_once() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if *installed || scripts().join("node_modules/oidc-provider").exists() {
        *installed = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(scripts())
        .status()
        .expect("npm runs (Node.js is needed for the OpenID provider)");
    assert!(status.success(), "npm ci in {} failed", scripts().display());
    *installed = true;
}

/// A provider script running on loopback, stopped when dropped.
struct NodeServer {
    issuer: String,
    child: Child,
}

impl NodeServer {
    fn start(script: &str, env: &[(&str, String)]) -> NodeServer {
        install_once();
        let mut command = Command::new("node");
        command.arg(scripts().join(script)).stdout(Stdio::piped()).stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("node starts");
        let stdout = child.stdout.take().expect("the provider's output");
        let mut lines = BufReader::new(stdout).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("listening ").map(str::to_owned))
            .expect("the provider says which port it listens on");
        // Keep reading: a provider writing to a closed pipe dies of EPIPE.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        NodeServer { issuer: format!("http://127.0.0.1:{port}"), child }
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(url: String, body: Value) {
    let response = reqwest::Client::new().post(url).json(&body).send().await.expect("the provider answers");
    assert!(response.status().is_success(), "the provider refused a test setting: {}", response.status());
}

/// The real provider, knowing Roster (at `public_url`) as its client.
pub struct TestIdp {
    server: NodeServer,
}

impl TestIdp {
    pub fn start(public_url: &str) -> TestIdp {
        let clients = json!([{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{public_url}/v1/sso/callback")],
        }]);
        TestIdp { server: NodeServer::start("provider.mjs", &[("OIDC_CLIENTS", clients.to_string())]) }
    }

    pub fn issuer(&self) -> &str {
        &self.server.issuer
    }

    /// Someone the provider knows, as subject `id` with these claims.
    pub async fn add_person(&self, id: &str, claims: Value) {
        post(format!("{}/test/accounts", self.issuer()), json!({ id: claims })).await;
    }

    /// Who logs in at the provider next (otherwise the `login_hint`).
    pub async fn log_in_as(&self, id: &str) {
        post(format!("{}/test/login", self.issuer()), json!({ "account": id })).await;
    }
}

/// The provider that forges ID tokens.
pub struct ForgedIdp {
    server: NodeServer,
}

impl ForgedIdp {
    pub fn start() -> ForgedIdp {
        ForgedIdp { server: NodeServer::start("forger.mjs", &[]) }
    }

    pub fn issuer(&self) -> &str {
        &self.server.issuer
    }

    /// What the next ID tokens are: `claims` override the honest ones
    /// (`null` removes one), `alg` is `RS256`, `none` or
    /// `HS256-with-public-key`, `key` is `published` or `second`.
    pub async fn plan(&self, plan: Value) {
        post(format!("{}/test/plan", self.issuer()), plan).await;
    }

    pub async fn publish_second_key(&self) {
        post(format!("{}/test/publish-second-key", self.issuer()), json!({})).await;
    }
}

/// Where a browser sent through single sign-on ends up.
#[derive(Debug)]
pub enum Arrival {
    /// Back at the frontend: the URL it was sent to.
    Frontend(reqwest::Url),
    /// Stopped by an answer that is no redirect.
    Stopped(Reply),
}

impl Arrival {
    /// The one-time code the frontend received.
    pub fn code(&self) -> String {
        match self {
            Arrival::Frontend(url) => url
                .query_pairs()
                .find(|(name, _)| name == "code")
                .map(|(_, code)| code.into_owned())
                .expect("the frontend gets a code"),
            Arrival::Stopped(reply) => panic!("single sign-on stopped at {} {}", reply.status, reply.body),
        }
    }

    pub fn refusal(self) -> Reply {
        match self {
            Arrival::Stopped(reply) => reply,
            Arrival::Frontend(url) => panic!("single sign-on was expected to fail, but reached {url}"),
        }
    }
}

impl TestApp {
    /// Sends a browser to `start` (a path of this server, or a URL) and follows the
    /// redirects, keeping cookies, until it is back at the frontend or an
    /// answer is no redirect. Roster's public URL stands for this server,
    /// as a reverse proxy would make it.
    pub async fn browse(&self, start: &str) -> Arrival {
        let mut cookies: HashMap<String, String> = HashMap::new();
        let first = if start.starts_with("http") { start.to_owned() } else { self.url(start) };
        let mut url = reqwest::Url::parse(&first).expect("a URL");
        for _ in 0..20 {
            let mut request = self.client.get(url.clone());
            if !cookies.is_empty() && !url.as_str().starts_with(&self.address) {
                let jar: Vec<String> = cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
                request = request.header("cookie", jar.join("; "));
            }
            let response = request.send().await.expect("the server answers");
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap_or_default().split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    cookies.insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
            if !response.status().is_redirection() {
                return Arrival::Stopped(TestApp::read(response).await);
            }
            let location = response.headers()["location"].to_str().expect("a location").to_owned();
            let next = url.join(&location).expect("a location that is a URL");
            if next.as_str().starts_with(FRONTEND) {
                return Arrival::Frontend(next);
            }
            let public = self.settings.public_url.trim_end_matches('/');
            url = match next.as_str().strip_prefix(public) {
                Some(path) => reqwest::Url::parse(&format!("{}{path}", self.address)).expect("a URL"),
                None => next,
            };
        }
        panic!("more than 20 redirects")
    }
}
