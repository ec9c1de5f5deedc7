//! A machine without system CA certificates: the HTTP client still starts (the node must not
//! refuse to start for it), http:// downloads work and https:// ones fail with an error.
//! Alone in its own test binary because it changes the process's environment.

use noderr_ml::{
	artifact::blake2_256,
	store::{Http, Store},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn without_root_certificates_http_works_and_https_fails_clearly() {
	let dir = std::env::temp_dir().join(format!("noderr-no-certs-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	let empty = dir.join("empty.pem");
	std::fs::write(&empty, b"").unwrap();
	// SAFETY: this test binary runs this one test; nothing else reads the environment now.
	unsafe {
		std::env::set_var("SSL_CERT_FILE", &empty);
		std::env::set_var("SSL_CERT_DIR", dir.join("none"));
	}
	let http = Http::new().expect("starts without root certificates");
	let store = Store::open(&dir.join("store")).unwrap();

	let data = vec![7u8; 10_000];
	let hash = blake2_256(&data);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let body = data.clone();
	tokio::spawn(async move {
		while let Ok((mut sock, _)) = listener.accept().await {
			let mut buf = [0u8; 1024];
			let _ = sock.read(&mut buf).await;
			let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
			let _ = sock.write_all(head.as_bytes()).await;
			let _ = sock.write_all(&body).await;
		}
	});
	let url = format!("http://{addr}/a.nrm");
	http.fetch(&store, &url, &hash, 10_000, |_, _| {}).await.expect("http works");
	assert!(store.has(&hash, 10_000));

	let other = blake2_256(b"other");
	let e = http
		.fetch(&store, &format!("https://{addr}/b.nrm"), &other, 10, |_, _| {})
		.await
		.unwrap_err();
	println!("https without root certificates: {e}");
	assert!(e.to_string().starts_with(&format!("https://{addr}/b.nrm")), "{e}");
}
