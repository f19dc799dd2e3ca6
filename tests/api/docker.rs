//! `Dockerfile` and `docker-compose.yml`, checked statically (issue 12): no
//! Docker engine runs on these machines, so what can go wrong without one
//! is checked here (see README "Docker").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use yaml_rust2::{Yaml, YamlLoader};

use crate::helpers::browser::ensure_debian_package;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The Dockerfile's instructions, continuation lines joined, comments and
/// the parser directive dropped.
fn instructions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in read("Dockerfile").lines() {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let (keyword, rest) = pending.split_once(' ').unwrap_or((&pending, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_owned()));
        pending.clear();
    }
    assert!(
        pending.is_empty(),
        "a continuation line ends the Dockerfile"
    );
    out
}

fn compose() -> Yaml {
    let docs = YamlLoader::load_from_str(&read("docker-compose.yml")).expect("compose parses");
    docs.into_iter().next().expect("one document")
}

/// The service's environment as compose sets it (a map or a list).
fn compose_environment(service: &Yaml) -> Vec<(String, String)> {
    match &service["environment"] {
        Yaml::Hash(map) => map
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    Yaml::String(text) => text.clone(),
                    Yaml::Integer(number) => number.to_string(),
                    Yaml::Boolean(flag) => flag.to_string(),
                    other => panic!("environment value {other:?}"),
                };
                (key.as_str().expect("a name").to_owned(), value)
            })
            .collect(),
        Yaml::Array(list) => list
            .iter()
            .map(|entry| {
                let entry = entry.as_str().expect("NAME=value");
                let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Every variable the service reads (clap's `env` names).
fn config_variables() -> BTreeSet<String> {
    user_service::config::Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect()
}

/// The routes a health check may probe.
const HEALTH_ROUTES: [&str; 2] = ["/health", "/ready"];

fn url_port_and_path(text: &str) -> Option<(u16, String)> {
    let start = text.find("http://")?;
    let url = text[start..].split_whitespace().next()?;
    let url = url::Url::parse(url.trim_matches(['"', '\'', ',', ']'])).ok()?;
    Some((url.port_or_known_default()?, url.path().to_owned()))
}

#[test]
fn compose_sets_only_variables_the_service_reads_and_its_ports_and_checks_match() {
    let compose = compose();
    let services = compose["services"].as_hash().expect("services");
    assert!(
        services.len() >= 4,
        "postgres, rabbitmq, redis, user-service"
    );
    let service = &compose["services"]["user-service"];
    assert!(!service.is_badvalue(), "a user-service service");

    let known = config_variables();
    let environment = compose_environment(service);
    assert!(!environment.is_empty());
    for (name, _) in &environment {
        assert!(
            known.contains(name) || name == "RUST_LOG",
            "compose sets {name}, which the service does not read"
        );
    }
    let port: u16 = environment
        .iter()
        .find(|(name, _)| name == "PORT")
        .map_or(Ok(user_service::config::DEFAULT_PORT), |(_, value)| {
            value.parse()
        })
        .expect("PORT is a number");

    // `ports` publish the container port the service listens on.
    let published: Vec<&str> = service["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        published
            .iter()
            .any(|mapping| mapping.rsplit(':').next() == Some(&port.to_string())),
        "{published:?} publish port {port}"
    );

    // The health check probes that port, on a real route.
    let test = match &service["healthcheck"]["test"] {
        Yaml::Array(parts) => parts
            .iter()
            .filter_map(Yaml::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Yaml::String(text) => text.clone(),
        other => panic!("healthcheck.test {other:?}"),
    };
    let (check_port, path) = url_port_and_path(&test).expect("a URL in the health check");
    assert_eq!(check_port, port, "{test}");
    assert!(HEALTH_ROUTES.contains(&path.as_str()), "{test}");

    // Every service it depends on exists and has a health check of its own.
    let depends = service["depends_on"].as_hash().expect("depends_on");
    for (name, condition) in depends {
        let name = name.as_str().expect("a service name");
        assert!(
            !compose["services"][name].is_badvalue(),
            "depends on {name}, which compose lacks"
        );
        if condition["condition"].as_str() == Some("service_healthy") {
            assert!(
                !compose["services"][name]["healthcheck"].is_badvalue(),
                "{name} has no health check to wait for"
            );
        }
    }
    // The URLs point at the services compose starts.
    for (name, value) in &environment {
        if let Some(host) = value
            .split("://")
            .nth(1)
            .and_then(|rest| rest.rsplit('@').next())
            .and_then(|rest| rest.split([':', '/']).next())
            && name != "AUTH_SERVICE_URL"
            && name != "ALLOWED_ORIGINS"
        {
            assert!(
                !compose["services"][host].is_badvalue(),
                "{name} points at {host}, which compose does not start"
            );
        }
    }
}

#[test]
fn the_dockerfile_exposes_checks_and_runs_what_the_service_serves() {
    let steps = instructions();
    let find = |keyword: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|(key, _)| key == keyword)
            .map(|(_, rest)| rest.as_str())
            .collect()
    };
    let expose = find("EXPOSE");
    assert_eq!(expose, ["8080"]);
    let env = find("ENV").join(" ");
    assert!(env.contains("PORT=8080"), "{env}");
    for name in env
        .split_whitespace()
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name))
    {
        assert!(
            config_variables().contains(name) || name == "RUST_LOG",
            "the image sets {name}, which the service does not read"
        );
    }
    let health = find("HEALTHCHECK").join(" ");
    let (port, path) = url_port_and_path(&health).expect("a URL in HEALTHCHECK");
    assert_eq!(port, 8080, "{health}");
    assert!(HEALTH_ROUTES.contains(&path.as_str()), "{health}");
    // A non-root user runs it.
    let user = find("USER");
    assert!(
        user.last()
            .is_some_and(|user| !user.starts_with("root") && !user.starts_with('0')),
        "{user:?}"
    );
    assert_eq!(find("ENTRYPOINT"), [r#"["user-service"]"#]);
    assert_eq!(find("CMD"), [r#"["serve"]"#]);

    // The builder is at least the crate's rust-version.
    let from = find("FROM");
    let builder = from
        .iter()
        .find_map(|image| image.strip_prefix("rust:"))
        .expect("a rust builder image");
    let version = |text: &str| -> Vec<u32> {
        text.split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()
            .unwrap_or("")
            .split('.')
            .filter_map(|part| part.parse().ok())
            .collect()
    };
    let manifest = read("Cargo.toml");
    let required = manifest
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .map(|value| value.trim_matches('"'))
        .expect("rust-version");
    assert!(
        version(builder) >= version(required),
        "rust:{builder} builds a crate that needs {required}"
    );
}

/// Directories `src/` embeds at compile time: `include_bytes!` /
/// `include_str!` under `CARGO_MANIFEST_DIR` outside tests, and
/// `embed_migrations!`.
fn embedded_directories() -> BTreeSet<String> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("src"), &mut files);
    let mut dirs = BTreeSet::from(["src".to_owned()]);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        // Test modules may embed what the image does not need.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for piece in code.split("CARGO_MANIFEST_DIR\"), \"/").skip(1) {
            if let Some(dir) = piece.split(['/', '"']).next() {
                dirs.insert(dir.to_owned());
            }
        }
        for piece in code.split("include_bytes!(concat!(").skip(1) {
            if let Some(dir) = piece
                .split("\"/")
                .nth(1)
                .and_then(|rest| rest.split(['/', '"']).next())
            {
                dirs.insert(dir.to_owned());
            }
        }
        for piece in code.split("embed_migrations!(\"").skip(1) {
            if let Some(dir) = piece.split('"').next() {
                dirs.insert(dir.to_owned());
            }
        }
    }
    dirs
}

#[test]
fn every_directory_the_build_embeds_is_copied_into_the_image() {
    let embedded = embedded_directories();
    assert!(
        embedded.contains("migrations") && embedded.contains("assets"),
        "{embedded:?}"
    );
    let steps = instructions();
    let copied: BTreeSet<String> = steps
        .iter()
        .filter(|(key, rest)| key == "COPY" && !rest.starts_with("--from"))
        .flat_map(|(_, rest)| {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            parts[..parts.len().saturating_sub(1)]
                .iter()
                .map(|source| source.trim_end_matches('/').to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let ignored = read(".dockerignore");
    for dir in &embedded {
        assert!(
            copied.contains(dir),
            "the image build lacks `COPY {dir} ./{dir}`: {copied:?}"
        );
        assert!(
            !ignored
                .lines()
                .any(|line| line.trim().trim_end_matches('/') == dir),
            ".dockerignore excludes {dir}"
        );
    }
    for manifest in ["Cargo.toml", "Cargo.lock"] {
        assert!(copied.contains(manifest), "{copied:?}");
    }
    let run = steps
        .iter()
        .filter(|(key, _)| key == "RUN")
        .map(|(_, rest)| rest.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(run.contains("cargo build --release --locked"), "{run}");
}

#[test]
fn the_readme_describes_the_dockerfile_steps() {
    let readme = read("README.md");
    let section = readme
        .split("\n## Docker\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a Docker section");
    for (keyword, rest) in instructions() {
        let described = match keyword.as_str() {
            "FROM" | "COPY" if !rest.starts_with("--from") => format!("`{keyword} {rest}`"),
            "USER" | "EXPOSE" | "ENTRYPOINT" | "CMD" => format!("`{keyword} {rest}`"),
            _ => continue,
        };
        assert!(
            section.contains(&described),
            "README's Docker section lacks {described}"
        );
    }
    // And nothing it names as a step is missing from the Dockerfile.
    let dockerfile = read("Dockerfile");
    for span in section.split('`').skip(1).step_by(2) {
        if ["FROM ", "COPY ", "USER ", "EXPOSE ", "ENTRYPOINT ", "CMD "]
            .iter()
            .any(|keyword| span.starts_with(keyword))
        {
            assert!(
                dockerfile.contains(span),
                "README names `{span}`, which the Dockerfile lacks"
            );
        }
    }
}

#[test]
fn yamllint_passes_on_the_compose_file() {
    let yamllint = Path::new("/usr/bin/yamllint");
    ensure_debian_package(yamllint, "yamllint");
    let output = std::process::Command::new(yamllint)
        .args([
            "--strict",
            "-d",
            "{extends: relaxed, rules: {line-length: {max: 120}}}",
        ])
        .arg(root().join("docker-compose.yml"))
        .output()
        .expect("run yamllint");
    assert!(
        output.status.success(),
        "yamllint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
