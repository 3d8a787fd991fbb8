//! What the CLI and crash suites share: running `portal` as a user does.
//! (The load generator, `load.rs`, is included by the load test and bench.)

use std::path::Path;
use std::process::{Command, Output};

/// `portal` on the database `database_url` names (default: the data dir's SQLite file).
pub fn portal_on(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    portal_command(data_dir, database_url, args)
        .output()
        .expect("run portal")
}

/// The command line of `portal ARGS` as an operator runs it, not yet started.
pub fn portal_command(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portal"));
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command
        .args(args)
        .env("PORTAL_DATA_DIR", data_dir)
        .env("PORTAL_LOG", "error");
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `portal serve` on a free loopback port, started as an operator would.
pub struct Server {
    pub child: std::process::Child,
    pub addr: String,
    pub stdout: std::io::BufReader<std::process::ChildStdout>,
    /// What it printed before announcing its address.
    pub seen: String,
}

impl Server {
    /// On the database `database_url` names (default: the data dir's SQLite file).
    pub fn start_on(data_dir: &Path, database_url: Option<&str>) -> Server {
        Server::start_with(data_dir, database_url, &[])
    }

    /// With more `serve` options.
    pub fn start_with(data_dir: &Path, database_url: Option<&str>, options: &[&str]) -> Server {
        use std::io::BufRead;
        let args = [&["serve", "--bind", "127.0.0.1:0"][..], options].concat();
        let mut child = portal_command(data_dir, database_url, &args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start portal serve");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        // From here on, dropping the server (a panic too) stops the process.
        let mut server = Server {
            child,
            addr: String::new(),
            stdout,
            seen: String::new(),
        };
        // Start-up notes (the signing key's fingerprint) come first.
        loop {
            let mut line = String::new();
            if server.stdout.read_line(&mut line).unwrap() == 0 {
                panic!("no address announced: {}", server.seen);
            }
            if let Some(addr) = line.trim().strip_prefix("Serving on http://") {
                server.addr = addr.to_string();
                return server;
            }
            server.seen.push_str(&line);
        }
    }
}

impl Server {
    /// `GET path` over plain HTTP/1.1; the whole response, status line first.
    pub fn get(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let addr = &self.addr;
        let mut conn = std::net::TcpStream::connect(addr).expect("connect to the server");
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).unwrap();
        response
    }
}

/// A test that fails half-way leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
