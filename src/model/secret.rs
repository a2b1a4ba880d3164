//! The one masking rule for every URL the tool shows (proxies, the runner's files, redirects,
//! throughput and `/meta` URLs, profile URLs): user information and query never reach a person.
//!
//! - The password is never shown (`user:***@`).
//! - The user part is masked whole (`***@`) when it may itself be the secret: when there is no
//!   password, when the password is empty or a fixed word the token conventions put there
//!   (`TOKEN:x-oauth-basic@`), when it looks like a token (`ghp_…`, `github_pat_…`, a long run
//!   of letters and digits), and when it holds a colon once decoded (`user%3ASECRET`), so a
//!   shown user name never reads as `user:secret`.
//! - The query and fragment become `?…` (signed URLs carry `sig=`, `token=`,
//!   `X-Amz-Signature=`; an OAuth fragment carries `access_token=`).
//!
//! Found in <https://github.com/runner-preflight/runner-preflight/issues/22> (rows 5a–5d).

/// Passwords that token conventions write beside a token given as the user name
/// (`https://TOKEN:x-oauth-basic@github.com`, GitHub docs, "Authenticating with GitHub Apps").
const FIXED_PASSWORDS: &[&str] = &[
    "x-oauth-basic",
    "x-access-token",
    "oauth2",
    "oauth",
    "token",
];

/// Prefixes of GitHub's token formats (GitHub docs, "About authentication to GitHub") and of
/// other common tokens a URL's user part may carry.
const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "eyj",
    "akia",
    "sk-",
];

/// Does this (decoded) user name look like a token rather than a person's or a service's name?
pub fn looks_like_token(user: &str) -> bool {
    let lower = user.to_ascii_lowercase();
    if TOKEN_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // A long run of letters and digits (a hex digest, base64, a random key): names people give
    // accounts are short, or words joined with `.`, `-`, `_`, `@`.
    let alnum = user.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    let digits = user.chars().filter(|c| c.is_ascii_digit()).count();
    user.chars().count() >= 32
        || (alnum >= 20 && digits >= 2 && digits * 8 >= alnum && alnum * 10 >= user.len() * 9)
}

/// The user information as shown: `user:***` or `***`. `user` and `password` are decoded.
pub fn shown_userinfo(user: &str, password: Option<&str>) -> String {
    let Some(password) = password else {
        return "***".to_string();
    };
    let fixed = password.is_empty()
        || FIXED_PASSWORDS
            .iter()
            .any(|w| password.eq_ignore_ascii_case(w));
    if fixed || user.contains(':') || looks_like_token(user) {
        return "***".to_string();
    }
    let user: String = user
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    format!("{user}:***")
}

/// RFC 3986 user information: the user is everything before the first literal `:`, the
/// password everything after it. A percent-encoded colon (`%3A`) belongs to the user.
pub fn split_userinfo(userinfo: &str) -> (&str, Option<&str>) {
    match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    }
}

/// `%XX` escapes decoded (invalid ones kept as they are); invalid UTF-8 replaced.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/path?query#fragment` → `/path?…`.
pub fn hide_query(path: &str) -> String {
    match path.find(['?', '#']) {
        Some(i) => format!("{}?…", &path[..i]),
        None => path.to_string(),
    }
}

/// A URL (or any text that may be one) as the tool shows it: user information masked whole
/// (`https://***@host/`: the tool never sends credentials from such a URL, so the user name
/// tells nothing), query and fragment hidden by [`hide_query`].
pub fn mask_url(raw: &str) -> String {
    mask_with(raw, false)
}

/// A proxy URL (or `user:password@host`) as the tool shows it: the user name is shown beside a
/// masked password where [`shown_userinfo`] allows (it tells which proxy account is used),
/// query and fragment hidden.
pub fn mask_proxy_url(raw: &str) -> String {
    mask_with(raw, true)
}

fn mask_with(raw: &str, keep_user: bool) -> String {
    let (prefix, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    let query = rest.find(['?', '#']);
    let before_query = &rest[..query.unwrap_or(rest.len())];
    // The last `@` before the query ends the user information; a password holding a raw `/`
    // (which a valid URL would have percent-encoded) stays inside it.
    if let Some(at) = before_query.rfind('@') {
        let (user, password) = split_userinfo(&rest[..at]);
        let password = password.map(percent_decode);
        let shown = if keep_user {
            shown_userinfo(&percent_decode(user), password.as_deref())
        } else {
            "***".to_string()
        };
        return format!("{prefix}{shown}{}", hide_query(&rest[at..]));
    }
    match rest.rfind('@') {
        // An `@` only after a `?` or `#`: an address in the query (`?email=a@b`), or user
        // information holding a raw `?` or `#`. The two cannot be told apart, and the second
        // would show part of a password: hide everything but the scheme.
        Some(_) => {
            let authority = &before_query[..before_query.find('/').unwrap_or(before_query.len())];
            if is_plain_authority(authority) {
                format!("{prefix}{}", hide_query(rest))
            } else {
                format!("{prefix}…")
            }
        }
        None => format!("{prefix}{}", hide_query(rest)),
    }
}

/// `text` (a line of a file shown under an error) with every URL in it masked by
/// [`mask_url`], and `column` (0-based, in characters) moved to stay under the same text: to
/// the start of a URL it pointed inside of.
pub fn mask_urls_in(text: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut caret = None;
    // `chars[copied..]` is not in `out` yet; `j` scans for `://`.
    let mut copied = 0;
    let mut j = 0;
    while j + 2 < chars.len() {
        if chars[j..j + 3] != [':', '/', '/'] {
            j += 1;
            continue;
        }
        let mut s = j;
        while s > copied && (chars[s - 1].is_ascii_alphanumeric() || "+.-".contains(chars[s - 1])) {
            s -= 1;
        }
        let mut e = j + 3;
        while e < chars.len() && !chars[e].is_whitespace() && !"\"'<>`".contains(chars[e]) {
            e += 1;
        }
        if (copied..s).contains(&column) {
            caret = Some(out.len() + column - copied);
        }
        out.extend(&chars[copied..s]);
        if (s..e).contains(&column) {
            caret = Some(out.len());
        }
        let url: String = chars[s..e].iter().collect();
        out.extend(mask_url(&url).chars());
        copied = e;
        j = e;
    }
    if column >= copied {
        caret = Some(out.len() + column - copied);
    }
    out.extend(&chars[copied..]);
    (out.into_iter().collect(), caret.unwrap_or(column))
}

/// `host`, `host:port`, `[v6]:port`: no room for a user name or a password.
fn is_plain_authority(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) if authority.starts_with('[') && authority.ends_with(']') => authority,
        Some(_) => return false,
        None => authority,
    };
    !host.is_empty() && (host.starts_with('[') || !host.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_other_than_proxies_lose_their_user_information_whole() {
        for (raw, shown) in [
            ("ftp://SECRETuser:SECRETpw@h/", "ftp://***@h/"),
            ("https://ghp_SECRET@h/x", "https://***@h/x"),
            (
                "https://user:pw@host/final?X-Amz-Signature=abc&token=t",
                "https://***@host/final?…",
            ),
            ("https://h/m?access_token=t", "https://h/m?…"),
        ] {
            assert_eq!(mask_url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn the_proxy_masking_table() {
        for (raw, shown) in [
            ("http://bob:hunter2@p:1/x", "http://bob:***@p:1/x"),
            ("bob:hunter2@p:1", "bob:***@p:1"),
            // Issue 22 row 5a: a token as the user, beside a fixed word or a password.
            (
                "http://ghp_SECRETtok:x-oauth-basic@127.0.0.1:3",
                "http://***@127.0.0.1:3",
            ),
            ("http://anybody:x-oauth-basic@h", "http://***@h"),
            ("http://anybody:X-Access-Token@h", "http://***@h"),
            ("http://ghp_SECRETtok:pw@h", "http://***@h"),
            ("http://github_pat_11AB:pw@h", "http://***@h"),
            ("http://user%3ASECRET:x@h", "http://***@h"),
            (
                "http://0123456789abcdef0123456789abcdef:pw@h",
                "http://***@h",
            ),
            ("http://svc-build-01:pw@h", "http://svc-build-01:***@h"),
            ("http://al%40ice:pw@h", "http://al@ice:***@h"),
            // Issue 22 row 5c: user information and query of a redirect.
            (
                "https://user:pw@host/final?X-Amz-Signature=abc&token=t",
                "https://user:***@host/final?…",
            ),
            ("https://host/p#access_token=t", "https://host/p?…"),
            (
                "https://host/p?email=a@b.example&token=t",
                "https://host/p?…",
            ),
            ("https://u:pa?ss@host/p", "https://…"),
            ("https://h:443?e=a@b", "https://h:443?…"),
            ("https://[::1]:8443?e=a@b", "https://[::1]:8443?…"),
            ("no-at-sign", "no-at-sign"),
        ] {
            assert_eq!(mask_proxy_url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn people_and_service_names_are_not_tokens() {
        for user in [
            "bob",
            "build-agent",
            "svc_runner_prod",
            "alice@example.com",
            "DOMAIN\\runner01",
        ] {
            assert!(!looks_like_token(user), "{user}");
        }
        for user in [
            "ghp_x",
            "gho_x",
            "ghu_x",
            "ghs_x",
            "ghr_x",
            "github_pat_x",
            "a1b2c3d4e5f6a7b8c9d0e1f2",
        ] {
            assert!(looks_like_token(user), "{user}");
        }
    }

    #[test]
    fn urls_in_a_line_are_masked_and_the_caret_stays_under_its_text() {
        let line = r#"  url: "https://ghp_SECRET@a.example/x?sig=S" # see http://h/ok"#;
        let (shown, caret) = mask_urls_in(line, 7);
        assert_eq!(
            shown,
            r#"  url: "https://***@a.example/x?…" # see http://h/ok"#
        );
        assert_eq!(caret, 7);
        let at_note = line.find("see").unwrap();
        let (_, caret) = mask_urls_in(line, at_note);
        let see = shown[..shown.find("see").unwrap()].chars().count();
        assert_eq!(caret, see);
        // Inside a URL: the caret goes to its start.
        let (_, caret) = mask_urls_in(line, 20);
        assert_eq!(caret, 8);
        assert_eq!(mask_urls_in("no url", 3), ("no url".to_string(), 3));
    }

    #[test]
    fn percent_escapes() {
        assert_eq!(percent_decode("a%41"), "aA");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%zz%41%"), "%zzA%");
    }
}
