//! Recognises `docker run` (and `docker container run`) invocations in a command and splits them into
//! docker options, the image reference and the container's own arguments.

use serde::{Deserialize, Serialize};

use super::shell_words::program_name;

/// One container the cloud-config starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRun {
    /// Where it was found, e.g. `write_files[0] /etc/systemd/system/cloudservice.service` or `runcmd[1]`.
    pub source: String,
    /// The image reference as written, e.g. `gcr.io/p/tokenclient@sha256:eea4…`.
    pub image: String,
    /// The repository without tag or digest, e.g. `gcr.io/p/tokenclient`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<hex>` when the reference carries a well-formed digest.
    pub digest: Option<String>,
    /// Options given to `docker run` before the image, as written (`--device=/dev/tpm0:/dev/tpm0`, `-p`, …).
    pub docker_args: Vec<String>,
    /// Arguments after the image, passed to the container.
    pub container_args: Vec<String>,
    /// Values of `--device`.
    pub devices: Vec<String>,
    /// Values of `-p` / `--publish`.
    pub published_ports: Vec<String>,
    /// `--privileged` was given.
    pub privileged: bool,
    /// `--net`/`--network` value, e.g. `host`.
    pub network: Option<String>,
}

impl ContainerRun {
    /// True when the image is referenced by a well-formed `@sha256:` digest.
    pub fn pinned(&self) -> bool {
        self.digest.is_some()
    }
}

/// `docker run` options that take no value. Every other option takes one (`--opt value` or `--opt=value`).
const FLAG_OPTIONS: &[&str] = &[
    "--rm",
    "--detach",
    "--interactive",
    "--tty",
    "--privileged",
    "--init",
    "--read-only",
    "--publish-all",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--sig-proxy",
    "--help",
    "--quiet",
    "--disable-content-trust",
    "--use-api-socket",
];

/// Short options that take no value; they may be combined (`-it`, `-dit`).
const FLAG_SHORT: &str = "dithPq";

/// Parses `words` (one simple command) as a `docker run`, or `None` when it is not one.
pub fn parse(words: &[String], source: &str) -> Option<ContainerRun> {
    let docker = words.iter().position(|w| program_name(w) == "docker")?;
    let rest = &words[docker + 1..];
    let rest = match rest {
        [run, tail @ ..] if run == "run" => tail,
        [container, run, tail @ ..] if container == "container" && run == "run" => tail,
        _ => return None,
    };
    let mut run = ContainerRun {
        source: source.to_owned(),
        image: String::new(),
        repository: String::new(),
        tag: None,
        digest: None,
        docker_args: Vec::new(),
        container_args: Vec::new(),
        devices: Vec::new(),
        published_ports: Vec::new(),
        privileged: false,
        network: None,
    };
    let mut i = 0;
    while i < rest.len() {
        let word = &rest[i];
        if word == "--" {
            i += 1;
            break;
        }
        if !word.starts_with('-') || word == "-" {
            break;
        }
        run.docker_args.push(word.clone());
        let (name, inline_value) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (word.clone(), None),
        };
        let takes_value = takes_value(&name);
        let value = match (inline_value, takes_value) {
            (Some(v), _) => Some(v),
            (None, true) => {
                if name.starts_with("--") || name.len() == 2 {
                    i += 1;
                    let v = rest.get(i).cloned();
                    if let Some(v) = &v {
                        run.docker_args.push(v.clone());
                    }
                    v
                } else {
                    // `-u0`, `-p8080:80`: value attached to a short option.
                    name.get(2..).map(str::to_owned)
                }
            }
            (None, false) => None,
        };
        let short = short_name(&name);
        match short.as_str() {
            "--device" => run.devices.extend(value),
            "-p" | "--publish" => run.published_ports.extend(value),
            "--network" | "--net" => run.network = value,
            "--privileged" => run.privileged = !matches!(value.as_deref(), Some("false")),
            _ => {}
        }
        i += 1;
    }
    let image = rest.get(i)?.clone();
    run.container_args = rest[i + 1..].to_vec();
    let (repository, tag, digest) = split_image(&image);
    run.repository = repository;
    run.tag = tag;
    run.digest = digest;
    run.image = image;
    Some(run)
}

/// The option's name with an attached short value removed (`-u0` → `-u`).
fn short_name(name: &str) -> String {
    if name.starts_with("--") {
        return name.to_owned();
    }
    name.get(..2).unwrap_or(name).to_owned()
}

fn takes_value(name: &str) -> bool {
    if name.starts_with("--") {
        return !FLAG_OPTIONS.contains(&name);
    }
    let letters = &name[1..];
    !(letters.chars().all(|c| FLAG_SHORT.contains(c)))
}

/// Splits an image reference into repository, tag and (well-formed) digest.
pub fn split_image(image: &str) -> (String, Option<String>, Option<String>) {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (
            name,
            super::is_sha256_digest(digest).then(|| digest.to_owned()),
        ),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (
                name[..at].to_owned(),
                Some(name[at + 1..].to_owned()),
                digest,
            )
        }
        None => (name.to_owned(), None, digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudconfig::shell_words::commands;

    fn run(line: &str) -> Option<ContainerRun> {
        commands(line).iter().find_map(|w| parse(w, "test"))
    }

    #[test]
    fn options_values_image_and_args_are_separated() {
        let r = run("/usr/bin/docker run --rm -u 0 --device=/dev/tpm0:/dev/tpm0 -p 50051:50051 --name=x gcr.io/p/i@sha256:eea4812c723e6d39d4261504508c0903c1c0958fc6ec25a9cad906c57ea610a9 --address a:1").unwrap();
        assert_eq!(r.repository, "gcr.io/p/i");
        assert_eq!(
            r.digest.as_deref(),
            Some("sha256:eea4812c723e6d39d4261504508c0903c1c0958fc6ec25a9cad906c57ea610a9")
        );
        assert_eq!(r.devices, ["/dev/tpm0:/dev/tpm0"]);
        assert_eq!(r.published_ports, ["50051:50051"]);
        assert_eq!(r.container_args, ["--address", "a:1"]);
        assert!(r.pinned());
    }

    #[test]
    fn combined_short_flags_and_registry_port_are_understood() {
        let r = run("docker run -dit --privileged localhost:5000/app:1.2").unwrap();
        assert_eq!(r.repository, "localhost:5000/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert!(r.privileged);
        assert!(!r.pinned());
    }

    #[test]
    fn malformed_digest_is_not_pinned() {
        let r = run("docker run busybox@sha256:1234").unwrap();
        assert_eq!(r.digest, None);
    }

    #[test]
    fn other_docker_commands_are_not_runs() {
        assert!(run("docker stop mycloudservice").is_none());
        assert!(run("docker container run busybox").is_some());
    }
}
