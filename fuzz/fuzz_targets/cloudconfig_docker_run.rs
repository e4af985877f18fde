//! Fuzzes `docker run` argument parsing (`cloudconfig::docker_run::parse`, through
//! `cloudconfig::fuzzing`) on the words the shell splitter makes of a line, and `split_image`.
//! Never panics; what it recognises is consistent: the image is one of the words, its repository,
//! tag and digest come from `split_image`, and options and container arguments are the words
//! around it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::cloudconfig::fuzzing::{Syntax, docker_run, shell_words};
use tokendist_core::cloudconfig::split_image;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    // The splitter's words, or (for lines it refuses) plain whitespace-separated words, so the
    // docker parser also sees words the splitter would never produce.
    let commands: Vec<Vec<String>> = match shell_words(line, Syntax::Shell) {
        Ok(commands) => commands.into_iter().map(|c| c.words).collect(),
        Err(_) => vec![line.split_whitespace().map(str::to_owned).collect()],
    };
    for words in &commands {
        let _ = split_image(line);
        let Some(run) = docker_run(words, "fuzz") else {
            continue;
        };
        assert!(
            words.contains(&run.image),
            "image {:?} is not a word of {words:?}",
            run.image
        );
        let (repository, tag, digest) = split_image(&run.image);
        assert_eq!(
            (&run.repository, &run.tag, &run.digest),
            (&repository, &tag, &digest)
        );
        assert_eq!(run.pinned(), run.digest.is_some());
        if words.iter().filter(|w| **w == run.image).count() == 1 {
            let image_at = words.iter().position(|w| *w == run.image).unwrap();
            assert_eq!(run.container_args, words[image_at + 1..]);
        }
        for device in &run.devices {
            assert!(run.docker_args.iter().any(|a| a.contains(device.as_str())));
        }
    }
});
