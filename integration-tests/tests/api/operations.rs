use integration_tests::{TestApp, for_both_backends, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    health_and_readiness_answer,
    every_response_carries_a_request_id,
    swagger_ui_is_served_without_network,
    served_openapi_matches_the_committed_contract,
    every_operation_is_fully_documented,
);

async fn health_and_readiness_answer(app: TestApp) {
    assert_eq!(app.get("/healthz", None).await.expect_status(200)["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.expect_status(200)["status"], "ok");
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let generated = app.get("/healthz", None).await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36);
    let failing = app.get("/no/such/route", None).await;
    assert!(failing.headers.contains_key("x-request-id"));
    let kept = app.client.get(app.url("/healthz")).header("x-request-id", "trace-42.a_b").send().await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-42.a_b");
    let replaced =
        app.client.get(app.url("/healthz")).header("x-request-id", "bad id\twith spaces").send().await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id\twith spaces");
}

async fn swagger_ui_is_served_without_network(app: TestApp) {
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/docs/");
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // The page runs only its own scripts, talks only to this origin and
    // cannot be framed.
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.split("; ").any(|d| d == directive), "{directive} missing from {policy}");
    }
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(html.contains("<title>Roster API</title>"), "the page is titled with the product's name");
    assert!(!html.contains("https://"), "the UI must not load assets from the network");
    let bundle = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    // No document is sent to validator.swagger.io, and there is no "Explore"
    // bar through which a visitor could load another document.
    let initializer = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();
    let initializer = initializer.text().await.unwrap();
    assert!(initializer.contains(r#""validatorUrl": "none""#), "{initializer}");
    assert!(initializer.contains(r#""layout": "BaseLayout""#), "{initializer}");
    assert!(initializer.contains(r#""url": "/openapi.json""#), "{initializer}");
}

async fn served_openapi_matches_the_committed_contract(app: TestApp) {
    let mut served = app.get("/openapi.json", None).await.expect_status(200).clone();
    let mut committed: Value = serde_json::from_str(include_str!("../../../openapi/openapi.json")).unwrap();
    // The committed file names a relative server; a deployment names itself,
    // so that "Try it out" and generated clients reach it wherever it runs.
    assert_eq!(committed["servers"][0]["url"], "/");
    assert_eq!(served["servers"], json!([{ "url": app.settings.public_url.trim_end_matches('/') }]));
    served["servers"] = Value::Null;
    committed["servers"] = Value::Null;
    assert!(served == committed, "openapi/openapi.json is stale: run `make openapi` and commit the result");
}

async fn every_operation_is_fully_documented(app: TestApp) {
    let document = app.get("/openapi.json", None).await.body;
    // A field that takes one of a few words says which (the contract run
    // checks every answer against them).
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let enumerated = |property: &Value| {
        let refers = |p: &Value| {
            p["$ref"]
                .as_str()
                .is_some_and(|r| schemas[r.trim_start_matches("#/components/schemas/")]["enum"].is_array())
        };
        property["enum"].is_array()
            || refers(property)
            || property["oneOf"].as_array().is_some_and(|one| one.iter().any(refers))
    };
    // An example shown under a status is an answer of that status, and
    // every problem answer lists the codes it carries (the harness checks
    // each problem a test meets against that list).
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let shown = match response["$ref"].as_str() {
                    Some(name) => &document["components"]["responses"][name.rsplit('/').next().unwrap()],
                    None => response,
                };
                let problem = &shown["content"]["application/problem+json"]["schema"];
                if !problem.is_null() {
                    let codes = problem["allOf"][1]["properties"]["code"]["enum"].as_array();
                    assert!(
                        codes.is_some_and(|c| !c.is_empty()),
                        "{}: {status} lists no codes",
                        operation["operationId"]
                    );
                }
                let example = &response["content"]["application/problem+json"]["example"];
                if !example.is_null() {
                    assert_eq!(example["status"].to_string(), *status, "{}: {status}", operation["operationId"]);
                }
            }
        }
    }
    for (name, schema) in schemas {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if ["status", "outcome", "kind", "decision", "undecided"].contains(&field.as_str())
                && property["type"] != "integer"
            {
                assert!(enumerated(property), "{name}.{field} is not enumerated: {property}");
            }
        }
    }
    // Client generators name types after operations (hey-api: `<Op>Data`,
    // `<Op>Response`, `<Op>Error`, …): a schema of such a name gets renamed
    // with a number in the generated client.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            let pascal: String = id.split('_').map(|word| word[..1].to_uppercase() + &word[1..]).collect();
            for suffix in ["Data", "Response", "Responses", "Error", "Errors"] {
                let generated = format!("{pascal}{suffix}");
                assert!(!schemas.contains_key(&generated), "schema {generated} clashes with operation {id}");
            }
        }
    }
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            assert!(operation["operationId"].is_string(), "{at}: operationId");
            assert!(operation["tags"].as_array().is_some_and(|tags| !tags.is_empty()), "{at}: tag");
            assert!(operation["summary"].is_string(), "{at}: summary");
            assert!(operation["security"].is_array(), "{at}: security requirement");
            let responses = operation["responses"].as_object().unwrap();
            // A browser redirect (single sign-on) succeeds with a 302.
            let success = |status: &String| status.starts_with('2') || status == "302";
            assert!(responses.keys().any(success), "{at}: success response");
            assert!(responses.contains_key("500"), "{at}: error responses");
            let secured = !operation["security"].as_array().unwrap().is_empty();
            if secured {
                assert!(responses.contains_key("401"), "{at}: 401");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{at}: {status}");
                }
            }
        }
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let documented = schema.get("example").is_some()
            || schema.get("examples").is_some()
            || schema["properties"].as_object().is_some_and(|p| !p.is_empty());
        assert!(documented, "schema {name} has neither example nor properties");
    }
}

/// PostgreSQL stops under a running server: requests and the readiness
/// probe are answered 503 promptly instead of queueing for a connection,
/// and once the database is back the same server serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_fast_and_heals_without_a_restart() {
    let Some(cluster) = integration_tests::OwnCluster::start() else { return };
    let Some(app) = TestApp::spawn_with(integration_tests::Backend::Sqlite, |settings| {
        settings.database_url = persistence::DatabaseUrl::parse(&cluster.url()).unwrap();
        settings.db_connect_wait_ms = 300;
    })
    .await
    else {
        return;
    };
    app.register("ada@example.com").await.expect_status(202);
    let login = serde_json::json!({"email": "ada@example.com", "password": integration_tests::PASSWORD});
    let token =
        app.post("/v1/auth/login", None, login).await.expect_status(200)["access_token"].as_str().unwrap().to_owned();
    app.get("/v1/me", Some(&token)).await.expect_status(200);

    cluster.stop();
    // Generous bounds: the point is seconds rather than the 10+ s a
    // request used to queue, not a latency figure.
    for path in ["/v1/me", "/readyz"] {
        let started = std::time::Instant::now();
        let reply = app.get(path, Some(&token)).await;
        reply.expect_problem(503, "unavailable");
        assert_eq!(reply.headers["retry-after"], "1");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{path} took {:?}", started.elapsed());
    }

    cluster.resume();
    assert_eq!(app.get("/v1/me", Some(&token)).await.expect_status(200)["email"], "ada@example.com");
    app.get("/readyz", None).await.expect_status(200);
}

/// Pooled connections are not tested on every checkout (a round trip per
/// request): one cut while the pool is busy fails its request with a 503 to
/// retry, never a 500, and is replaced; the requests after it succeed.
#[tokio::test]
async fn a_connection_cut_under_load_costs_at_most_its_request() {
    let Some(app) = TestApp::spawn(integration_tests::Backend::Postgres).await else { return };
    let token = app.sign_up("ada@example.com").await.access_token;
    for _ in 0..3 {
        app.get("/v1/me", Some(&token)).await.expect_status(200);
    }
    let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
               AND pid <> pg_backend_pid() AND application_name NOT LIKE 'roster-%'";
    let cut: usize = diesel::RunQueryDsl::execute(diesel::sql_query(cut), &mut *app.db()).unwrap();
    assert!(cut >= 1, "the server's connections are cut");
    let first = app.get("/v1/me", Some(&token)).await;
    if first.status != 200 {
        first.expect_problem(503, "unavailable");
        assert_eq!(first.headers["retry-after"], "1");
    }
    for _ in 0..3 {
        assert_eq!(app.get("/v1/me", Some(&token)).await.expect_status(200)["email"], "ada@example.com");
    }
}

/// SQLite's write-ahead log is copied into the database file beside the
/// requests: the file grows with what was written although no commit comes
/// near the log size at which a commit would copy it itself.
#[tokio::test]
async fn sqlite_write_ahead_log_is_checkpointed_beside_the_requests() {
    let Some(app) = TestApp::spawn(integration_tests::Backend::Sqlite).await else { return };
    let persistence::DatabaseUrl::Sqlite(file) = app.settings.database_url.clone() else { unreachable!() };
    let size = || std::fs::metadata(&file).expect("the database file").len();
    let before = size();
    for i in 0..40 {
        app.register(&format!("user{i}@example.com")).await.expect_status(202);
    }
    integration_tests::eventually("the database file grows", std::time::Duration::from_secs(10), || {
        std::future::ready(size() > before)
    })
    .await;
}

for_both_backends!(metrics_are_served_apart_from_the_api);

async fn metrics_are_served_apart_from_the_api(backend: integration_tests::Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        settings.rate_limits.register_per_ip = "1/h".parse().unwrap();
    })
    .await
    else {
        return;
    };
    app.get("/v1/me/accounts", None).await.expect_problem(401, "unauthenticated");
    app.register("ada@example.com").await.expect_status(202);
    app.register("grace@example.com").await.expect_problem(429, "rate_limited");
    app.get("/metrics", None).await.expect_problem(404, "route_not_found");

    let metrics_address = app.metrics_address.clone().expect("a metrics listener");
    let scraped = app.client.get(format!("{metrics_address}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = scraped.text().await.unwrap();
    for expected in [
        // By route template, never by the path with its ids.
        r#"roster_http_request_duration_seconds_count{method="GET",route="/v1/me/accounts",status="401"} 1"#,
        r#"roster_http_request_duration_seconds_count{method="POST",route="/v1/auth/register",status="202"} 1"#,
        r#"roster_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/v1/me/accounts",status="401"}"#,
        r#"roster_rate_limited_total{limit="register"} 1"#,
        // The verification email waits for the (test-driven) job runner.
        r#"roster_jobs_queued{kind="email"} 1"#,
        "roster_db_pool_connections_in_use ",
        "roster_db_pool_waiting 0",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(text.contains(r#"roster_jobs_oldest_age_seconds{kind="email"}"#));
    app.run_jobs().await;
    let text = app.client.get(format!("{metrics_address}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains(r#"roster_jobs_queued{kind="email"}"#), "the email went out:\n{text}");
}
