//! hoist's compose render vs `docker compose config` (compose v2, the real binary), in one
//! run, as a ratio.
//!
//! The project: six services with anchors and merge keys, an env file, an override file
//! beside the compose file, profiles, long and short syntax, a dozen interpolations. Each
//! round renders it from the files:
//! - hoist: `Project::rendered()` on the local host (reads the host's environment, the env
//!   file and both compose files, interpolates, merges, validates), and the pure core
//!   `render::render` on texts already read;
//! - compose: `docker-compose config --format json` (v2, from `scripts/compose-v2`).
//!
//! Run: `cargo bench --bench compose` (needs pip for scripts/compose-v2, like the tests).
//! Goal: hoist's render <= 0.25x the time of `docker compose config`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hoist::compose::render::{Source, render};
use hoist::compose::{ComposeOptions, Project};

const ROUNDS: usize = 30;

const COMPOSE: &str = r#"x-common: &common
  restart: unless-stopped
  pull_policy: missing
  logging:
    driver: json-file
    options: {max-size: 10m}
  environment: &env
    TZ: ${TZ:-UTC}
    LOG_LEVEL: ${LOG_LEVEL:-info}
x-worker: &worker
  <<: *common
  image: ${REGISTRY:-registry.local}/app:${TAG:?set TAG}
  command: ["celery", "-A", "app", "worker", "--concurrency", "${CONCURRENCY:-4}"]
  depends_on:
    db: {condition: service_healthy}
    cache: {condition: service_started}
services:
  web:
    <<: *common
    image: ${REGISTRY:-registry.local}/app:${TAG:?set TAG}
    ports: ["127.0.0.1:${WEB_PORT:-8080}:8080", "9100"]
    volumes: ["./static:/srv/static:ro", "uploads:/srv/uploads"]
    environment:
      <<: *env
      DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app
      ALLOWED_HOSTS: ${ALLOWED_HOSTS:-localhost,127.0.0.1}
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]
      interval: 10s
      retries: ${HEALTH_RETRIES:-3}
    depends_on: [db, cache]
    deploy: {replicas: "${WEB_REPLICAS:-2}"}
  worker:
    <<: *worker
    profiles: [workers]
  scheduler:
    <<: *worker
    command: celery -A app beat
    profiles: [workers]
  init:
    <<: *common
    image: ${REGISTRY:-registry.local}/app:${TAG:?set TAG}
    command: ["python", "manage.py", "migrate"]
    restart: "no"
    profiles: [setup]
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}
      POSTGRES_DB: app
    volumes:
      - type: volume
        source: pgdata
        target: /var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 5s
      timeout: 3s
      retries: 10
  cache:
    image: redis:7
    command: redis-server --save "" --appendonly no
volumes:
  uploads: {}
  pgdata: {}
networks:
  default:
    name: app-net
"#;

const OVERRIDE: &str = r#"services:
  web:
    environment:
      DEBUG: "false"
    ports: ["127.0.0.1:9229:9229"]
    dns: [1.1.1.1]
  worker:
    environment: [EXTRA=1]
"#;

const ENV: &str = "# app settings\nTAG=1.4.2\nDB_PASSWORD='s3cr3t'\nexport LOG_LEVEL=debug\nREGISTRY=registry.example.com:5000\nALLOWED_HOSTS=\"example.com,www.example.com\" # hosts\n";

fn compose_v2() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compose-v2");
    let out = Command::new(&script).output().expect("scripts/compose-v2");
    assert!(
        out.status.success(),
        "scripts/compose-v2: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn per_round(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0 / ROUNDS as f64
}

fn main() {
    let bin = compose_v2();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(dir.path().join("compose.override.yaml"), OVERRIDE).unwrap();
    std::fs::write(dir.path().join(".env"), ENV).unwrap();
    let profiles = vec!["workers".to_string()];

    let compose_config = || {
        let out = Command::new(&bin)
            .current_dir(dir.path())
            .args(["--profile", "workers", "config", "--format", "json"])
            .output()
            .expect("compose v2 config");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let rt = hoist::Runtime::builder().build().unwrap();
    let p = Project::new(
        &rt.local(),
        dir.path().to_str().unwrap(),
        ComposeOptions {
            profiles: profiles.clone(),
            ..ComposeOptions::default()
        },
    )
    .unwrap();
    // Warm both (page cache, the binary, the host's first commands).
    compose_config();
    let r = rt.block_on(p.rendered()).expect("hoist render");
    assert_eq!(
        r.model.services.len(),
        5,
        "workers profile active, setup not"
    );

    let started = Instant::now();
    for _ in 0..ROUNDS {
        compose_config();
    }
    let compose = started.elapsed();

    let started = Instant::now();
    for _ in 0..ROUNDS {
        // A fresh project each round: nothing cached between renders.
        let p = Project::new(
            &rt.local(),
            dir.path().to_str().unwrap(),
            ComposeOptions {
                profiles: profiles.clone(),
                ..ComposeOptions::default()
            },
        )
        .unwrap();
        rt.block_on(p.rendered()).expect("hoist render");
    }
    let hoist = started.elapsed();

    let sources = vec![
        Source {
            name: "compose.yaml".into(),
            text: COMPOSE.into(),
        },
        Source {
            name: "compose.override.yaml".into(),
            text: OVERRIDE.into(),
        },
    ];
    let vars = |k: &str| match k {
        "TAG" => Some("1.4.2".to_string()),
        "DB_PASSWORD" => Some("s3cr3t".to_string()),
        _ => None,
    };
    let started = Instant::now();
    for _ in 0..ROUNDS {
        render(&sources, &vars, &profiles).expect("core render");
    }
    let core = started.elapsed();

    let ratio = hoist.as_secs_f64() / compose.as_secs_f64();
    println!("compose render, {ROUNDS} rounds (6 services, anchors, env file, override file):");
    println!(
        "  docker compose config (v2):            {:8.2} ms/render",
        per_round(compose)
    );
    println!(
        "  hoist p.render() (files from the host): {:8.2} ms/render  ratio {ratio:.3}x",
        per_round(hoist)
    );
    println!(
        "  hoist render core (texts in memory):    {:8.3} ms/render  ratio {:.4}x",
        per_round(core),
        core.as_secs_f64() / compose.as_secs_f64()
    );
    println!(
        "  goal (hoist's render <= 0.25x docker compose config): {}",
        if ratio <= 0.25 { "met" } else { "NOT met" }
    );
    rt.shutdown();
}
