//! A student's own WebAssembly program (`runtime: wasm`): it runs under the same limits as
//! Python, a spinning program is stopped, and a file that is not WebAssembly is an error.

mod common;
use common::*;

/// A wasm32-wasip1 command that prints `text` to stdout (and spins forever when `spin`).
fn program(text: &str, spin: bool) -> Vec<u8> {
    let bytes: String = text.bytes().map(|b| format!("\\{b:02x}")).collect();
    let body = if spin { "(loop $l (br $l))" } else { "" };
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{bytes}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {len}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    {body}))"#,
        len = text.len()
    );
    wat::parse_str(wat).unwrap()
}

fn assignment() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        "version: 1
assignment: {id: wasm-demo, title: Own program, classroom_prefix: wasm-demo}
sandbox:
  runtime: wasm
  program: hello.wasm
  limits: {wall_time: 3s, cpu_time: 1s}
tests:
  - name: greets
    kind: output
    points: 1
    run: {args: []}
    expect: {exact: \"hello, grader\"}
",
    )
    .unwrap();
    dir
}

#[test]
fn a_student_wasm_program_is_graded() {
    let spec = assignment();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(sub.path().join("hello.wasm"), program("hello, grader\n", false)).unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(g.code, 0, "{}\n{}", g.markdown, g.stderr);
    assert_eq!(g.test("greets")["status"], "passed");
}

#[test]
fn a_spinning_wasm_program_times_out() {
    let spec = assignment();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(sub.path().join("hello.wasm"), program("hello, grader\n", true)).unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(g.code, 1);
    assert_eq!(g.test("greets")["status"], "timeout");
    assert!(g.test("greets")["duration_ms"].as_u64().unwrap() < 3_500);
}

#[test]
fn a_file_that_is_not_wasm_is_the_students_error() {
    let spec = assignment();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(sub.path().join("hello.wasm"), b"#!/bin/sh\necho hello, grader\n").unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(g.code, 1);
    let t = g.test("greets");
    assert_eq!(t["status"], "error");
    assert!(
        t["feedback"][0]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly program"),
        "{t}"
    );
}
