//! The container backend, black-box: the numpy example graded by the real binary in the real
//! course image, the attacks of `../shared/reference/sandboxing.md` that only containers face
//! (fork bombs, memory, network, writing outside scratch, leftover processes, host links), data
//! mounts, and the clean-up of containers other instances left behind.

mod common;
use common::*;
use std::process::Command;

/// A one-test container assignment running `script` (with `body`) and expecting `expect`, with
/// `sandbox_extra` lines added to its sandbox section; returns (spec folder, submission folder).
fn one_test(
    image: &str,
    sandbox_extra: &str,
    script: &str,
    body: &str,
    expect: &str,
) -> (tempfile::TempDir, tempfile::TempDir) {
    let spec = tempfile::tempdir().unwrap();
    let text = format!(
        "version: 1\nassignment: {{id: c, title: C, classroom_prefix: c}}\nsandbox:\n  backend: container\n  image: {image}\n{sandbox_extra}tests:\n  - name: only\n    kind: output\n    points: 1\n    run: {{script: {script}}}\n    expect: {{exact: {expect}}}\n"
    );
    write_files(spec.path(), &[("spec.yaml", &text)]);
    let sub = tempfile::tempdir().unwrap();
    write_files(sub.path(), &[(script, body)]);
    (spec, sub)
}

/// How many sandbox containers (in any state) the grader process `pid` owns.
fn containers_of(pid: u32) -> usize {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=autograder.owner",
            "--format",
            "{{.Label \"autograder.owner\"}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|o| o.contains(&format!(":{pid}:")))
        .count()
}

#[test]
fn z_fit_example_grades_full_partial_wrong_and_broken_submissions() {
    if !docker_ready() {
        return;
    }
    let spec = example("z-fit");
    let full = grade(&spec, &submission("z-fit", "full"), &[]);
    assert_eq!(full.code, 0, "{}\n{}", full.markdown, full.stderr);
    assert_eq!((full.total(), full.max_total()), (13.0, 13.0), "{}", full.markdown);

    // A plain Gaussian finds the mass but not the shape: the chi2/ndf window fails, and the
    // non-relativistic Breit-Wigner fails the function cases (one hidden case agrees at the pole).
    let partial = grade(&spec, &submission("z-fit", "partial"), &[]);
    assert!((partial.total() - 7.1).abs() < 1e-9, "{}", partial.markdown);
    assert_eq!(
        partial.test("fit quality (chi2/ndf) on the hidden sample")["points"],
        0.0
    );
    assert_eq!(partial.test("Z mass on the hidden sample")["points"], 4.0);

    let wrong = grade(&spec, &submission("z-fit", "wrong"), &[]);
    assert_eq!(wrong.total(), 0.0, "{}", wrong.markdown);
    assert_eq!(wrong.code, 1);

    let broken = grade(&spec, &submission("z-fit", "no-import"), &[]);
    assert_eq!(broken.total(), 0.0);
    assert!(broken.statuses().iter().all(|s| s == "error"), "{}", broken.markdown);
    assert!(broken.markdown.contains("optimise"), "{}", broken.markdown);
}

const ATTACKS: &str = r#"version: 1
assignment: {id: attacks, title: Attacks, classroom_prefix: attacks}
sandbox:
  backend: container
  image: autograder-course:bookworm
  limits: {wall_time: 8s, cpu_time: 4s, memory: 128MiB, processes: 32, output: 8KiB, scratch: 2MiB}
  mounts: [{source: MOUNT, target: /data}]
tests:
  - name: fork bomb
    kind: output
    points: 1
    run: {script: forkbomb.py}
    expect: {exact: never}
  - name: memory hog
    kind: output
    points: 1
    run: {script: hog.py}
    expect: {exact: never}
  - name: network is unreachable
    kind: output
    points: 1
    run: {script: network.py}
    expect: {exact: "blocked blocked blocked blocked"}
  - name: nothing outside scratch is writable
    kind: output
    points: 1
    run: {script: write_outside.py}
    expect: {exact: "refused refused refused refused refused refused"}
  - name: output links to a host file
    kind: output
    points: 1
    run: {script: link.py}
    output_file: /scratch/out.txt
    expect: {exact: "root"}
  - name: leftover processes
    kind: output
    points: 1
    run: {script: daemon.py}
    expect: {exact: started}
  - name: stderr flood
    kind: output
    points: 1
    run: {script: stderr_flood.py}
    expect: {exact: never}
  - name: fills /tmp
    kind: output
    points: 1
    run: {script: fill_tmp.py}
    expect: {exact: never}
  - name: no grader secrets or hidden files inside
    kind: output
    points: 1
    run: {script: snoop.py}
    expect: {exact: "clean"}
  - name: course data is mounted read-only
    kind: output
    points: 1
    run: {script: data.py}
    expect: {exact: "3 refused"}
  - name: numpy values are plain data
    kind: function
    points: 1
    module: numeric
    function: stats
    cases:
      - {args: [[1, 2, 3]], expect: [2.0, [1, 4, 9], true, 6]}
"#;

const ATTACK_FILES: &[(&str, &str)] = &[
    (
        "forkbomb.py",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    ),
    (
        "hog.py",
        "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n",
    ),
    (
        "network.py",
        "import socket\nresults = []\nfor host, port in [('1.1.1.1', 53), ('172.17.0.1', 2375), ('127.0.0.1', 8080), ('deb.debian.org', 80)]:\n    try:\n        socket.create_connection((host, port), timeout=2).close()\n        results.append('open')\n    except OSError:\n        results.append('blocked')\nprint(' '.join(results))\n",
    ),
    (
        "write_outside.py",
        "import os\nresults = []\nfor path in ['/etc/passwd', '/usr/lib/python3/dist-packages/numpy/__init__.py', '/evil', '/inputs/x', '/proc/sys/kernel/hostname', '/sys/fs/cgroup/memory/memory.limit_in_bytes']:\n    try:\n        with open(path, 'a') as f:\n            f.write('x')\n        results.append('WROTE ' + path)\n    except OSError:\n        results.append('refused')\nprint(' '.join(results))\n",
    ),
    ("link.py", "import os\nos.symlink('/etc/passwd', '/scratch/out.txt')\n"),
    (
        "daemon.py",
        "import os, subprocess, time\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(1)\n    with open('/scratch/late', 'w') as f:\n        f.write('late')\n    os._exit(0)\nprint('started')\n",
    ),
    (
        "stderr_flood.py",
        "import sys\nwhile True:\n    sys.stderr.write('e' * 1000)\n",
    ),
    (
        "fill_tmp.py",
        "chunk = b'x' * 65536\nwith open('/tmp/big', 'wb') as f:\n    for _ in range(200):\n        f.write(chunk)\n        f.flush()\nprint('never')\n",
    ),
    (
        "snoop.py",
        "import os\nfound = []\nif 'AUTOGRADER_TEST_SECRET' in os.environ or 'topsecret' in open('/proc/self/environ').read():\n    found.append('secret in environment')\nfor root, dirs, files in os.walk('/', onerror=lambda e: None):\n    if root.startswith(('/proc', '/sys')):\n        dirs[:] = []\n        continue\n    for name in files:\n        if name in ('truth.csv', 'spec.yaml'):\n            found.append(os.path.join(root, name))\nprint(' '.join(found) or 'clean')\n",
    ),
    (
        "data.py",
        "rows = open('/data/course.csv').read().split()\ntry:\n    open('/data/course.csv', 'a').write('x')\n    print(len(rows) - 1, 'WROTE')\nexcept OSError:\n    print(len(rows) - 1, 'refused')\n",
    ),
    (
        "numeric.py",
        "import numpy as np\n\n\ndef stats(values):\n    a = np.array(values)\n    return (np.mean(a), a ** 2, np.all(a > 0), a.sum())\n",
    ),
];

#[test]
fn attacks_are_contained_in_containers() {
    if !docker_ready() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    write_files(data.path(), &[("course.csv", "x\n1\n2\n3\n")]);
    let spec = tempfile::tempdir().unwrap();
    let text = ATTACKS.replace("MOUNT", &data.path().display().to_string());
    write_files(spec.path(), &[("spec.yaml", &text), ("private/truth.csv", "y\n1\n")]);
    let sub = tempfile::tempdir().unwrap();
    write_files(sub.path(), ATTACK_FILES);

    let json = tempfile::tempdir().unwrap();
    let json_path = json.path().join("r.json");
    let started = std::time::Instant::now();
    let child = autograder()
        .args(["grade", "--json"])
        .arg(&json_path)
        .arg(spec.path())
        .arg(sub.path())
        .env("AUTOGRADER_TEST_SECRET", "topsecret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let markdown = String::from_utf8_lossy(&out.stdout).into_owned();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let test = |name: &str| -> serde_json::Value {
        json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap()
    };
    let status = |name: &str| test(name)["status"].as_str().unwrap().to_string();
    let feedback = |name: &str| test(name)["feedback"].to_string();

    // Each attack ends as the student's problem, with a clear status; none is a grader error.
    assert!(!json["incomplete"].as_bool().unwrap(), "{markdown}");
    assert!(
        ["error", "timeout"].contains(&status("fork bomb").as_str()),
        "{markdown}"
    );
    assert_eq!(status("memory hog"), "error", "{markdown}");
    assert!(feedback("memory hog").contains("memory limit exceeded"), "{markdown}");
    assert_eq!(status("network is unreachable"), "passed", "{markdown}");
    assert_eq!(status("nothing outside scratch is writable"), "passed", "{markdown}");
    assert_ne!(status("output links to a host file"), "passed", "{markdown}");
    assert!(
        feedback("output links to a host file").contains("is a link"),
        "{markdown}"
    );
    assert!(!markdown.contains("/usr/sbin/nologin"), "{markdown}");
    assert_eq!(status("stderr flood"), "error", "{markdown}");
    assert!(feedback("stderr flood").contains("output limit exceeded"), "{markdown}");
    assert_eq!(status("fills /tmp"), "error", "{markdown}");
    assert!(feedback("fills /tmp").contains("disk limit exceeded"), "{markdown}");
    assert_eq!(
        status("no grader secrets or hidden files inside"),
        "passed",
        "{markdown}"
    );
    assert_eq!(status("course data is mounted read-only"), "passed", "{markdown}");
    assert_eq!(status("numpy values are plain data"), "passed", "{markdown}");

    // A program that leaves processes behind is not waited for, and nothing it left survives.
    assert_eq!(status("leftover processes"), "passed", "{markdown}");
    assert!(
        test("leftover processes")["duration_ms"].as_u64().unwrap() < 5_000,
        "{markdown}"
    );
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
    assert_eq!(containers_of(pid), 0, "containers of the finished grade remain");
}

#[test]
fn containers_of_gone_owners_are_removed_and_live_ones_kept() {
    if !docker_ready() {
        return;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let me = std::process::id();
    let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(19)
        .unwrap()
        .to_string();
    let far = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    let create = |owner: &str, deadline: &str| -> String {
        let out = Command::new("docker")
            .args(["create", "--network", "none", "--label"])
            .arg(format!("autograder.owner={owner}"))
            .arg("--label")
            .arg(format!("autograder.deadline={deadline}"))
            .args([COURSE_IMAGE, "true"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Owned by a process that is gone (same host, no such process), by this live test process,
    // by a live process on another host, and one past its deadline.
    let gone = create(&format!("{host}:4194303:1"), &far);
    let live = create(&format!("{host}:{me}:{start}"), &far);
    let elsewhere = create("another-host:1:1", &far);
    let expired = create(&format!("{host}:{me}:{start}"), "1");

    let (spec, sub) = one_test(COURSE_IMAGE, "", "hello.py", "print('hello')\n", "hello");
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(g.code, 0, "{}\n{}", g.markdown, g.stderr);

    let exists = |id: &str| {
        Command::new("docker")
            .args(["inspect", id])
            .output()
            .unwrap()
            .status
            .success()
    };
    let (gone_left, live_left, elsewhere_left, expired_left) =
        (exists(&gone), exists(&live), exists(&elsewhere), exists(&expired));
    for id in [&gone, &live, &elsewhere, &expired] {
        let _ = Command::new("docker").args(["rm", "-f", id]).output();
    }
    assert!(!gone_left, "a container of a gone owner was kept");
    assert!(!expired_left, "a container past its deadline was kept");
    assert!(live_left, "a container of a live owner was removed");
    assert!(elsewhere_left, "a container owned on another host was removed");
}

#[test]
fn a_missing_image_is_caught_by_validate_and_before_grading() {
    if !docker_ready() {
        return;
    }
    let (spec, sub) = one_test(
        "autograder-no-such-image:0",
        "",
        "hello.py",
        "print('hello')\n",
        "hello",
    );
    let out = autograder().arg("validate").arg(spec.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sandbox.image") && err.contains("autograder-no-such-image:0") && err.contains("build it"),
        "{err}"
    );
    // Grading stops before any test runs, rather than reporting every test as a grader error.
    let out = autograder()
        .arg("grade")
        .arg(spec.path())
        .arg(sub.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("autograder-no-such-image:0") && err.contains("build it"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// Findings of a hostile review of the container backend, each now contained: student code runs
/// under another uid than the supervisor, so it cannot kill, stop, trace or write into it; CPU
/// is counted for the whole container; /dev/shm counts as disk; the submission's files do not eat
/// the memory limit; a big stdin does not eat the scratch quota.
const REVIEW: &str = r#"version: 1
assignment: {id: review, title: Review, classroom_prefix: review}
sandbox:
  backend: container
  image: autograder-course:bookworm
  limits: {wall_time: 30s, cpu_time: 3s, memory: 96MiB, cpus: 2, processes: 32, output: 8KiB, scratch: 2MiB}
tests:
  - name: kills every process it can
    kind: output
    points: 1
    run: {script: kill_all.py}
    expect: {exact: done}
  - name: kills its parent
    kind: output
    points: 1
    run: {script: kill_parent.py}
    expect: {exact: done}
  - name: stops its parent
    kind: output
    points: 1
    run: {script: stop_parent.py}
    expect: {exact: done}
  - name: writes into the parent's frames
    kind: output
    points: 1
    run: {script: inject.py}
    expect: {exact: done}
  - name: spreads CPU over processes
    kind: output
    points: 1
    run: {script: spread.py}
    expect: {exact: done}
  - name: fills /dev/shm
    kind: output
    points: 1
    run: {script: shm.py}
    expect: {exact: done}
  - name: holds its own exit with a tracer
    kind: output
    points: 1
    run: {script: zombie.py}
    expect: {exact: done}
  - name: reads a big stdin
    kind: output
    points: 1
    run: {script: count_stdin.py, stdin: STDIN}
    expect: {exact: "2097152"}
  - name: many files and a big one
    kind: output
    points: 1
    run: {script: count_files.py}
    expect: {exact: "801 47185920"}
"#;

const REVIEW_FILES: &[(&str, &str)] = &[
    ("kill_all.py", "import os\nprint('done', flush=True)\nos.kill(-1, 9)\n"),
    (
        "kill_parent.py",
        "import os\ntry:\n    os.kill(os.getppid(), 9)\nexcept OSError:\n    pass\nprint('done')\n",
    ),
    (
        "stop_parent.py",
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGSTOP)\nexcept OSError:\n    pass\nprint('done')\n",
    ),
    (
        "inject.py",
        "import os\ntry:\n    fd = os.open('/proc/%d/fd/1' % os.getppid(), os.O_WRONLY)\n    os.write(fd, b'O\\x7f\\xff\\xff\\xff')\nexcept OSError:\n    pass\nprint('done')\n",
    ),
    (
        "spread.py",
        "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nwhile time.process_time() < 2.5:\n    pass\nprint('done')\n",
    ),
    (
        "shm.py",
        "chunk = b'x' * (1 << 20)\nwith open('/dev/shm/big', 'wb') as f:\n    for _ in range(60):\n        f.write(chunk)\n        f.flush()\nprint('done')\n",
    ),
    (
        "zombie.py",
        "import ctypes, os, time\nlibc = ctypes.CDLL(None)\nmain = os.getpid()\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n    libc.ptrace(0x4206, main, 0, 0)\n    os.write(w, b'x')\n    for _ in range(3):\n        if os.fork() == 0:\n            while True:\n                pass\n    while True:\n        time.sleep(1)\nlibc.prctl(0x59616D61, 0, 0, 0, 0)\nos.read(r, 1)\nos._exit(0)\n",
    ),
    ("count_stdin.py", "import sys\nprint(len(sys.stdin.buffer.read()))\n"),
    (
        "count_files.py",
        "import os\nn = size = 0\nfor root, dirs, files in os.walk('/submission'):\n    for f in files:\n        if f.endswith('.csv') or f == 'big.bin':\n            n += 1\n            size += os.path.getsize(os.path.join(root, f))\nprint(n, size - 800 * 2)\n",
    ),
];

#[test]
fn the_supervisor_and_the_limits_are_out_of_the_students_reach() {
    if !docker_ready() {
        return;
    }
    let spec = tempfile::tempdir().unwrap();
    let stdin = "x".repeat(2 << 20);
    write_files(spec.path(), &[("spec.yaml", &REVIEW.replace("STDIN", &stdin))]);
    let sub = tempfile::tempdir().unwrap();
    write_files(sub.path(), REVIEW_FILES);
    for i in 0..800 {
        write_files(sub.path(), &[(&format!("data/f{i}.csv"), "1\n")]);
    }
    std::fs::write(sub.path().join("big.bin"), vec![7u8; 45 << 20]).unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    let status = |name: &str| g.test(name)["status"].as_str().unwrap().to_string();

    // Nothing a submission does makes the grader look broken.
    assert!(!g.json["incomplete"].as_bool().unwrap(), "{}\n{}", g.markdown, g.stderr);
    for name in [
        "kills every process it can",
        "kills its parent",
        "stops its parent",
        "writes into the parent's frames",
        "reads a big stdin",
        "many files and a big one",
    ] {
        assert_eq!(status(name), "passed", "{name}:\n{}", g.markdown);
        assert!(
            g.test(name)["duration_ms"].as_u64().unwrap() < 8_000,
            "{name}:\n{}",
            g.markdown
        );
    }
    // Four processes of 2.5 s each are 10 s of CPU against 3 s (the wall limit is far, even on a
    // loaded machine).
    assert_eq!(status("spreads CPU over processes"), "timeout", "{}", g.markdown);
    assert!(
        g.test("spreads CPU over processes")["feedback"]
            .to_string()
            .contains("CPU time")
    );
    // A tracer holding the run's exit status (so it is never reaped) does not stop the CPU limit.
    assert_eq!(status("holds its own exit with a tracer"), "timeout", "{}", g.markdown);
    assert!(
        g.test("holds its own exit with a tracer")["feedback"]
            .to_string()
            .contains("CPU time"),
        "{}",
        g.markdown
    );
    assert!(
        g.test("holds its own exit with a tracer")["duration_ms"]
            .as_u64()
            .unwrap()
            < 20_000,
        "{}",
        g.markdown
    );
    assert_eq!(status("fills /dev/shm"), "error", "{}", g.markdown);
    assert!(
        g.test("fills /dev/shm")["feedback"].to_string().contains("disk limit"),
        "{}",
        g.markdown
    );
}

#[test]
fn sigterm_during_grading_removes_the_runs_containers() {
    if !docker_ready() {
        return;
    }
    let limits = "  limits: {wall_time: 60s, cpu_time: 60s}\n";
    let (spec, sub) = one_test(
        COURSE_IMAGE,
        limits,
        "sleep.py",
        "import time\ntime.sleep(60)\n",
        "done",
    );
    let mut child = autograder()
        .arg("grade")
        .arg(spec.path())
        .arg(sub.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mine = || containers_of(pid);
    // Wait until its container runs, then stop the grader.
    let started = std::time::Instant::now();
    while mine() == 0 && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(mine(), 1, "the run's container never appeared");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(mine(), 0, "the interrupted run's container was left behind");
}

/// Course data stays in a host folder and is mounted read-only, not copied per run: the z-fit
/// reference solution fits the real CMS 2010 dimuon events from `../shared/data` at /data.
#[test]
fn the_z_fit_solution_fits_real_cms_data_from_a_mounted_folder() {
    let Some(shared) = shared() else { return };
    if !docker_ready() {
        return;
    }
    let data = shared.join("data").canonicalize().unwrap();
    let spec = tempfile::tempdir().unwrap();
    let text = format!(
        "version: 1\nassignment: {{id: cms, title: CMS, classroom_prefix: cms}}\nsandbox:\n  backend: container\n  image: {COURSE_IMAGE}\n  limits: {{wall_time: 30s, cpu_time: 20s, memory: 512MiB}}\n  mounts: [{{source: {}, target: /data}}]\ntests:\n  - name: Z mass from CMS 2010 data\n    kind: metric\n    points: 1\n    run: {{script: zfit.py, args: [/data/cms-zmumu-2010.csv, /scratch/fit.json]}}\n    predictions: {{file: /scratch/fit.json, format: json, field: mass}}\n    metric: {{abs_error: {{reference: 91.1876}}}}\n    score: {{threshold: {{max: 1.0}}}}\n",
        data.display()
    );
    write_files(spec.path(), &[("spec.yaml", &text)]);
    let g = grade(spec.path(), &submission("z-fit", "full"), &[]);
    assert_eq!(g.code, 0, "{}\n{}", g.markdown, g.stderr);
    // The model has no radiative tail, so on real data it lands a few hundred MeV low (the
    // z-boson example's real-data test finds the same): 90.78 GeV here.
    let error = g.test("Z mass from CMS 2010 data")["metric"]["value"].as_f64().unwrap();
    assert!(
        (0.2..0.7).contains(&error),
        "|m - m_Z(PDG)| = {error} GeV\n{}",
        g.markdown
    );
}
