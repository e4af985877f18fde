//! The daemon part of `docs/operations.md` is run as written: every ` ```console ` command in order,
//! from the repository's root, with the built binaries first on PATH, `/etc/tokendist`,
//! `/var/lib/tokendist` and `/run/tokendist` mapped into the scratch directory, the documented ports
//! mapped to free ones, and the Google endpoints pointed at a `gcpsim` child through the environment.
//! Each command's output (stdout and stderr) must match the documented one and its exit status the
//! documented status. The format is in `tokendist_testkit::doc_examples`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokendist_testkit::demo::{demo_path, repo_dir};
use tokendist_testkit::doc_examples::{self, Example};
use tokendist_testkit::gcpsim::GcpsimProcess;
use tokendist_testkit::process::binary;

/// Where the runnable part of the document starts.
const DAEMON_PART: &str = "## Daemons";
/// The documented directories, mapped into the scratch directory.
const DIRECTORIES: [&str; 3] = ["/etc/tokendist", "/var/lib/tokendist", "/run/tokendist"];
/// The documented ports, mapped to free ones.
const PORTS: [u16; 3] = [50051, 9464, 9465];
/// The longest any one documented command may take.
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// The text substitutions between the document and the scratch world, both ways.
struct Mapping {
    pairs: Vec<(String, String)>,
}

impl Mapping {
    fn new(root: &Path) -> Mapping {
        let mut pairs: Vec<(String, String)> = DIRECTORIES
            .iter()
            .map(|dir| (dir.to_string(), format!("{}{dir}", root.display())))
            .collect();
        for port in PORTS {
            let free = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            pairs.push((format!(":{port}"), format!(":{free}")));
        }
        Mapping { pairs }
    }

    fn to_scratch(&self, text: &str) -> String {
        self.pairs
            .iter()
            .fold(text.to_string(), |text, (doc, scratch)| {
                text.replace(doc, scratch)
            })
    }

    fn to_document(&self, text: &str) -> String {
        self.pairs
            .iter()
            .fold(text.to_string(), |text, (doc, scratch)| {
                text.replace(scratch, doc)
            })
    }
}

/// The process groups the documented commands started (background daemons included), killed at the
/// end.
struct Groups(Vec<i32>);

impl Drop for Groups {
    fn drop(&mut self) {
        for signal in ["-TERM", "-KILL"] {
            for group in &self.0 {
                let _ = Command::new("kill")
                    .args([signal, "--", &format!("-{group}")])
                    .stderr(Stdio::null())
                    .status();
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// Runs `command` with bash in `dir` and `env`, in its own process group; returns (status, output).
fn run(
    command: &str,
    dir: &Path,
    env: &[(String, String)],
    groups: &mut Groups,
    output_file: &Path,
) -> (i32, String) {
    let output = std::fs::File::create(output_file).unwrap();
    let mut child = Command::new("bash")
        .args(["-o", "pipefail", "-c", command])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .process_group(0)
        .spawn()
        .unwrap();
    groups.0.push(i32::try_from(child.id()).unwrap());
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "`{command}` did not finish within {COMMAND_DEADLINE:?}:\n{}",
                std::fs::read_to_string(output_file).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(output_file).unwrap_or_default();
    (status.code().unwrap_or(-1), text)
}

#[test]
fn the_daemon_examples_of_the_operations_guide_run_as_documented() {
    let document = repo_dir().join("docs/operations.md");
    let markdown = std::fs::read_to_string(&document).unwrap();
    let examples = doc_examples::parse(&markdown, DAEMON_PART);
    let commands = examples
        .iter()
        .filter(|e| matches!(e, Example::Command(_)))
        .count();
    assert!(
        commands >= 10,
        "the daemon part of {} has {commands} runnable commands; expected its walkthrough",
        document.display()
    );

    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    for dir in DIRECTORIES {
        std::fs::create_dir_all(root.join(dir.trim_start_matches('/'))).unwrap();
    }
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mapping = Mapping::new(&root);

    let gcpsim = GcpsimProcess::spawn(&binary("gcpsim").unwrap(), &demo_path());
    let api = gcpsim.api;
    let bins: PathBuf = binary("tokenserver").unwrap().parent().unwrap().into();
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), path),
        ("HOME".into(), home.display().to_string()),
        ("NO_COLOR".into(), "1".into()),
        ("REPO".into(), repo_dir().display().to_string()),
        ("GCPSIM".into(), format!("http://{api}")),
    ];
    for (key, value) in [
        ("GCP__COMPUTE_ENDPOINT", format!("http://{api}")),
        ("GCP__LOGGING_ENDPOINT", format!("http://{api}")),
        ("GCP__JWKS_URL", format!("http://{api}/oauth2/v3/certs")),
        ("GCP__JWKS_ALLOW_HTTP", "true".into()),
        ("GCP__CREDENTIALS", "anonymous".into()),
    ] {
        env.push((format!("TOKENSERVER_{key}"), value));
    }
    if let Some(metadata) = gcpsim.metadata.get(tokendist_testkit::demo::GOOD_VM) {
        env.push(("GCE_METADATA_HOST".into(), metadata.to_string()));
    }

    let mut groups = Groups(Vec::new());
    let output_file = scratch.path().join("output");
    for example in &examples {
        match example {
            Example::File {
                path,
                contents,
                line,
            } => {
                let target = PathBuf::from(mapping.to_scratch(path));
                assert!(
                    target.starts_with(&root) || target.is_relative(),
                    "line {line}: {path} is outside the mapped directories"
                );
                let target = if target.is_relative() {
                    root.join(target)
                } else {
                    target
                };
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(&target, mapping.to_scratch(contents)).unwrap();
            }
            Example::Command(command) => {
                let (status, output) = run(
                    &mapping.to_scratch(&command.command),
                    &repo_dir(),
                    &env,
                    &mut groups,
                    &output_file,
                );
                let output = mapping.to_document(&output);
                assert!(
                    status == command.exit_code
                        && doc_examples::matches(&command.expected, &output),
                    "{}:{}: `{}`\nexit status {status} (documented {})\n--- output ---\n{output}\n--- documented ---\n{}",
                    document.display(),
                    command.line,
                    command.command,
                    command.exit_code,
                    command.expected.join("\n"),
                );
            }
        }
    }
    drop(groups);
    drop(gcpsim);
}
