//! Finds libpcmoe, prints Cargo's link instructions for it, and records the C layout of
//! the header's structs for the layout test.
//!
//! - `PCMOE_LIB_DIR` set: links `PCMOE_LIB_DIR/libpcmoe.so` and takes the
//!   header from `PCMOE_INCLUDE_DIR`, or else from `PCMOE_LIB_DIR/../include`.
//! - Otherwise: runs the `pkg-config` program (or the one `PKG_CONFIG`
//!   names) for the package `pcmoe`.
//!
//! The layout step compiles `build/layout.c` with `CC` (default `cc`) and
//! runs it. When it cannot, the build still succeeds and the layout test
//! fails with the reason, so a missing C compiler cannot hide an ABI mismatch.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WATCHED_VARIABLES: [&str; 8] = [
    "PCMOE_LIB_DIR",
    "PCMOE_INCLUDE_DIR",
    "PKG_CONFIG",
    "PKG_CONFIG_PATH",
    "PKG_CONFIG_LIBDIR",
    "PKG_CONFIG_SYSROOT_DIR",
    "PKG_CONFIG_ALLOW_SYSTEM_LIBS",
    "CC",
];

fn main() {
    for variable in WATCHED_VARIABLES.iter() {
        println!("cargo:rerun-if-env-changed={}", variable);
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/layout.c");

    let include_dirs = match non_empty_variable("PCMOE_LIB_DIR") {
        Some(lib_dir) => link_from_folder(Path::new(&lib_dir)),
        None => link_with_pkg_config(),
    };
    for dir in &include_dirs {
        println!("cargo:include={}", dir.display());
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("Cargo sets OUT_DIR for build scripts"));
    let layout = match measure_layout(&include_dirs, &out_dir) {
        Ok(text) => layout_source(&text, ""),
        Err(reason) => {
            println!("cargo:warning=the layout test will fail: {}", reason);
            layout_source("", &reason)
        }
    };
    fs::write(out_dir.join("layout.rs"), layout).expect("failed to write OUT_DIR/layout.rs");
}

fn non_empty_variable(name: &str) -> Option<String> {
    match env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => None,
    }
}

/// Links the libpcmoe.so in `lib_dir` and returns the folders to search for pcmoe.h.
fn link_from_folder(lib_dir: &Path) -> Vec<PathBuf> {
    if !lib_dir.join("libpcmoe.so").exists() {
        panic!(
            "libpcmoe.so not found in PCMOE_LIB_DIR {}; set PCMOE_LIB_DIR to the folder of libpcmoe.so",
            lib_dir.display()
        );
    }
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=pcmoe");
    match non_empty_variable("PCMOE_INCLUDE_DIR") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![lib_dir.join("..").join("include")],
    }
}

/// Runs `pkg-config ARGS pcmoe` and returns its output split into flags.
fn pkg_config(args: &[&str]) -> Vec<String> {
    let program = non_empty_variable("PKG_CONFIG").unwrap_or_else(|| "pkg-config".to_string());
    let output = Command::new(&program).args(args).arg("pcmoe").output();
    let output = match output {
        Ok(output) => output,
        Err(error) => panic!(
            "failed to run {}: {}; install pkg-config, or set PCMOE_LIB_DIR to the folder of libpcmoe.so",
            program, error
        ),
    };
    if !output.status.success() {
        panic!(
            "{} {} pcmoe failed: {}; set PKG_CONFIG_PATH to PREFIX/lib/pkgconfig of a pcmoe installation, \
             or PCMOE_LIB_DIR to the folder of libpcmoe.so",
            program,
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect()
}

/// Links libpcmoe as pkg-config describes it and returns its include folders.
fn link_with_pkg_config() -> Vec<PathBuf> {
    for flag in pkg_config(&["--libs"]) {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(name) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", name);
        } else {
            println!("cargo:warning=ignoring the pkg-config flag {}", flag);
        }
    }
    pkg_config(&["--cflags-only-I"])
        .iter()
        .filter_map(|flag| flag.strip_prefix("-I"))
        .map(PathBuf::from)
        .chain(std::iter::once(PathBuf::from("/usr/include")))
        .collect()
}

/// Compiles and runs build/layout.c against pcmoe.h and returns what it printed.
fn measure_layout(include_dirs: &[PathBuf], out_dir: &Path) -> Result<String, String> {
    let header_dir = include_dirs
        .iter()
        .find(|dir| dir.join("pcmoe.h").exists())
        .ok_or_else(|| format!("pcmoe.h was not found in {:?}; set PCMOE_INCLUDE_DIR", include_dirs))?;
    let compiler = non_empty_variable("CC").unwrap_or_else(|| "cc".to_string());
    let source = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("build/layout.c");
    let program = out_dir.join("pcmoe-layout");
    let compiled = Command::new(&compiler)
        .arg("-std=c11")
        .arg("-I")
        .arg(header_dir)
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .output()
        .map_err(|error| format!("failed to run the C compiler {}: {}", compiler, error))?;
    if !compiled.status.success() {
        return Err(format!(
            "{} failed to compile {}: {}",
            compiler,
            source.display(),
            String::from_utf8_lossy(&compiled.stderr).trim()
        ));
    }
    let ran =
        Command::new(&program).output().map_err(|error| format!("failed to run {}: {}", program.display(), error))?;
    if !ran.status.success() {
        return Err(format!("{} exited with {}", program.display(), ran.status));
    }
    String::from_utf8(ran.stdout).map_err(|_| format!("{} printed invalid UTF-8", program.display()))
}

/// Writes the lines of build/layout.c as a Rust table of (kind, name, value).
fn layout_source(text: &str, error: &str) -> String {
    let mut source = String::from("/// (kind, name, value) as build/layout.c printed them from pcmoe.h.\n");
    source.push_str("pub const C_LAYOUT: &[(&str, &str, &str)] = &[\n");
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let kind = parts.next().unwrap_or("");
        let name = parts.next().unwrap_or("");
        let value = parts.next().unwrap_or("");
        source.push_str(&format!("    ({:?}, {:?}, {:?}),\n", kind, name, value));
    }
    source.push_str("];\n");
    source.push_str("/// Why the layout could not be measured; empty when it was.\n");
    source.push_str(&format!("pub const C_LAYOUT_ERROR: &str = {:?};\n", error));
    source
}
