"""Hostile request corpus for the guest listener (proxy identity).

Data, not code: CASES is a list of plain dicts.  Python rather than JSON so
that raw bytes stay readable (b"\\r\\n", b"\\x00") and long inputs can be
written as b"a" * 9000 instead of being pasted.  The runner is
tests/integration/test_hostile_corpus.py; README.md beside this file says
how to add a case.

Fields of a case:
  name      unique id
  group     what family of attack it belongs to
  raw       bytes, or a list of byte segments (sent one after the other;
            after the first, the runner waits for the `interim` answers)
  expect    final statuses in order; each an int or a tuple of allowed ints;
            [] means "no answer at all, just a close"
  after     "close": the daemon closes after the last answer, with no
            further byte; "open": the connection stays usable, no extra
            answer arrives, and a further GET / on it gets 200
  interim   1xx statuses expected after the first segment (Expect: 100)
  no_interim  no 1xx answer may be sent at all
  bodies    optional list, one per answer: expected body bytes, or None
  head      the answers are to HEAD: no bodies
  split     send every byte in its own write
  eof       shutdown(SHUT_WR) once everything is sent
  wait      seconds to allow for the answers (timeouts)
  reason    why this is the right answer (implementation, RFC, nova-compat)

Placeholders the runner replaces before sending (never inside a counted
body):
  {{IDENT}}      the three neutron headers, validly signed, for instance A,
                 which has no password (a POST that got through would store)
  {{IDENT_SET}}  the same for instance B, whose password is already set
  {{IID}} {{TENANT}} {{SIG}} {{SIG_UPPER}}  A's parts, one by one
  {{IID_SET}} {{TENANT_SET}} {{SIG_SET}}    B's parts
  {{VALUE_SET}}  B's stored value (only in `bodies`)
"""

PW = b"/openstack/latest/password"
H = b"Host: 169.254.169.254\r\n"
ROOT = b"GET / HTTP/1.1\r\n" + H + b"\r\n"
EC2_ROOT = (b"1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n"
            b"2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest")
IDENT = b"{{IDENT}}"
IDENT_SET = b"{{IDENT_SET}}"


def get(target, extra=b"", version=b"HTTP/1.1"):
    return b"GET " + target + b" " + version + b"\r\n" + H + extra + b"\r\n"


def post_pw(ident, headers, body=b""):
    """POST to the password route; headers are raw lines, CRLF included."""
    return b"POST " + PW + b" HTTP/1.1\r\n" + H + ident + headers + \
        b"\r\n" + body


def cl(n):
    return b"Content-Length: %d\r\n" % n


def target_of_len(n):
    """'GET /?aaa HTTP/1.1' of exactly n bytes; the query is ignored."""
    return b"GET /?" + b"a" * (n - len(b"GET /? HTTP/1.1")) + b" HTTP/1.1"


def fields_of_len(total, count=16):
    """count header lines (CRLF included) of exactly total bytes."""
    per, extra = divmod(total, count)
    out = []
    for i in range(count):
        size = per + (extra if i == 0 else 0)
        name = b"X-F%02d: " % i
        out.append(name + b"v" * (size - len(name) - 2) + b"\r\n")
    data = b"".join(out)
    assert len(data) == total
    return data


def nfields(n):
    return b"".join(b"X-F%d: v\r\n" % i for i in range(n))


def C(name, group, raw, expect, after="close", reason="", **kw):
    d = {"name": name, "group": group, "raw": raw, "expect": expect,
         "after": after, "reason": reason}
    d.update(kw)
    return d


SMUGGLED_GET = b"GET /openstack/latest/password HTTP/1.1\r\n" + H + \
    IDENT_SET + b"\r\n"
# The same without placeholders, for counted bodies (a placeholder there
# would change the length after Content-Length was computed).
SMUGGLED_PLAIN = b"GET /openstack/latest/password HTTP/1.1\r\n" + H + \
    b"X-Instance-ID: smuggled\r\n\r\n"

CASES = [
    # ---------------------------------------------------------------- CL.TE
    C("clte_basic", "CL.TE",
      post_pw(IDENT, cl(6) + b"Transfer-Encoding: chunked\r\n",
              b"0\r\n\r\nX"),
      [400], reason="TE with CL is refused (DESIGN §3, RFC 9112 §6.1)"),
    C("clte_smuggle_root", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(5) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED_GET,
      [400], reason="400 and close; the smuggled GET is never answered"),
    C("clte_te_first", "CL.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n" + cl(3), b"abc"),
      [400], reason="field order does not matter"),
    C("clte_cl_zero", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(0) +
      b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      [400]),
    C("clte_te_identity", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(5) +
      b"Transfer-Encoding: identity\r\n\r\nhello", [400]),
    C("clte_pw_set", "CL.TE",
      post_pw(IDENT_SET, cl(4) + b"Transfer-Encoding: chunked\r\n",
              b"0\r\n\r\n"),
      [400], reason="a framing error is refused before the broker is asked"),

    # ---------------------------------------------------------------- TE.CL
    C("tecl_basic", "TE.CL",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n" + cl(3),
              b"8\r\nSMUGGLED\r\n0\r\n\r\n"), [400]),
    C("tecl_root_pipeline", "TE.CL",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n" +
      cl(40) + b"\r\n0\r\n\r\n" + SMUGGLED_GET, [400]),

    # ---------------------------------------------------------------- TE.TE
    C("te_chunked_pw", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n",
              b"5\r\nhello\r\n0\r\n\r\n"),
      [411], reason="chunked POST without CL: 411 (nova-compat §10.3), body "
      "never read, so close"),
    C("te_chunked_pw_set", "TE.TE",
      post_pw(IDENT_SET, b"Transfer-Encoding: chunked\r\n",
              b"5\r\nhello\r\n0\r\n\r\n"),
      [409], reason="409 is checked before the size/framing reject "
      "(nova-compat §2 order); body unread, so close"),
    C("te_chunked_root", "TE.TE",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
      b"0\r\n\r\n" + ROOT, [411],
      reason="RFC 9110 §15.5.12: 411 when a body without Content-Length "
      "will not be read"),
    C("te_xchunked", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"),
      [400], reason="unknown coding: 400, not 411"),
    C("te_chunked_identity_list", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked, identity\r\n"), [400]),
    C("te_identity_chunked_list", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: identity, chunked\r\n",
              b"0\r\n\r\n"), [501],
      reason="RFC 9112 §6.1: a coding we do not implement, 501"),
    C("te_duplicate_chunked", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n"
              b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n"), [400]),
    C("te_duplicate_mixed", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n"
              b"Transfer-Encoding: identity\r\n", b"0\r\n\r\n"), [400]),
    C("te_uppercase", "TE.TE",
      post_pw(IDENT, b"transfer-encoding: CHUNKED\r\n", b"0\r\n\r\n"),
      [411], reason="field names and the coding are case-insensitive"),
    C("te_tab_ows", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding:\tchunked\t\r\n", b"0\r\n\r\n"),
      [411], reason="HTAB is OWS; the value is exactly chunked"),
    C("te_space_before_colon", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding : chunked\r\n" + cl(3), b"abc"),
      [400], reason="RFC 9112 §5.1: whitespace before the colon is 400"),
    C("te_vertical_tab", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: \x0bchunked\r\n"), [400]),
    C("te_quoted", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: \"chunked\"\r\n"), [400]),
    C("te_folded", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding:\r\n chunked\r\n"), [400]),
    C("te_nul", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\x00\r\n"), [400]),
    C("te_underscore_is_other_field", "TE.TE",
      post_pw(IDENT, b"Transfer_Encoding: chunked\r\n" + cl(0)),
      [200], after="open",
      reason="Transfer_Encoding is just another field; CL 0 is an empty, "
      "no-op POST (nova-compat §2)"),
    C("te_http10", "TE.TE",
      b"POST " + PW + b" HTTP/1.0\r\n" + H + IDENT +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      [(400, 411)], reason="RFC 9112 §6.1: TE in 1.0 is faulty framing; "
      "refuse and close"),
    C("te_empty_value", "TE.TE",
      b"GET / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n\r\n", [400]),

    # ------------------------------------------------------- Content-Length
    C("cl_duplicate_equal", "CL",
      post_pw(IDENT_SET, cl(3) + cl(3), b"abc"), [400],
      reason="two CLs are refused even when equal (DESIGN §3)"),
    C("cl_duplicate_conflict", "CL",
      post_pw(IDENT_SET, cl(3) + cl(5), b"abcde"), [400]),
    C("cl_duplicate_case", "CL",
      post_pw(IDENT_SET, cl(3) + b"content-length: 3\r\n", b"abc"), [400]),
    C("cl_list", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3, 3\r\n", b"abc"), [400]),
    C("cl_plus_sign", "CL",
      post_pw(IDENT_SET, b"Content-Length: +3\r\n", b"abc"), [400]),
    C("cl_minus_sign", "CL",
      post_pw(IDENT_SET, b"Content-Length: -3\r\n", b"abc"), [400]),
    C("cl_inner_space", "CL",
      post_pw(IDENT_SET, b"Content-Length: 1 0\r\n", b"abcdefghij"), [400]),
    C("cl_ows_around", "CL",
      post_pw(IDENT_SET, b"Content-Length:   3 \t\r\n", b"abc"),
      [409], after="open",
      reason="OWS around a field value is not part of it (RFC 9112 §5.1)"
      "; framing fine, the set password gives 409"),
    C("cl_hex", "CL",
      post_pw(IDENT_SET, b"Content-Length: 0x3\r\n", b"abc"), [400]),
    C("cl_hex_letters", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3a\r\n", b"abc"), [400]),
    C("cl_decimal_point", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3.0\r\n", b"abc"), [400]),
    C("cl_huge_digits", "CL",
      post_pw(IDENT_SET, b"Content-Length: 99999999999999999999999\r\n",
              b"abc"), [400]),
    C("cl_wraps_2_64", "CL",
      post_pw(IDENT_SET, b"Content-Length: 18446744073709551619\r\n",
              b"abc"), [400], reason="2^64+3 must not wrap to 3"),
    C("cl_above_1gib", "CL",
      b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1073741825\r\n\r\nabc",
      [400]),
    C("cl_leading_zeros", "CL",
      post_pw(IDENT_SET, b"Content-Length: 0003\r\n", b"abc"),
      [409], after="open", reason="1*DIGIT allows leading zeros"),
    C("cl_empty", "CL",
      post_pw(IDENT_SET, b"Content-Length:\r\n"), [400]),
    C("cl_unicode_digit", "CL",
      post_pw(IDENT_SET, b"Content-Length: \xd9\xa3\r\n", b"abc"), [400]),
    C("cl_body_short_times_out", "CL",
      post_pw(IDENT, cl(10), b"abc"), [408], wait=4.0,
      reason="the body never completes: 408 after body_timeout, nothing "
      "stored"),
    C("cl_body_longer_then_eof", "CL",
      post_pw(IDENT_SET, cl(3), b"abcdef"), [409], eof=True,
      reason="3 bytes are the body; 'def' is an incomplete next head, then "
      "EOF: quiet close"),
    C("cl_get_body_swallows_request", "CL",
      b"GET / HTTP/1.1\r\n" + H + cl(len(SMUGGLED_PLAIN)) + b"\r\n" +
      SMUGGLED_PLAIN, [200], after="open", bodies=[EC2_ROOT],
      reason="a GET's counted body is read and dropped, never parsed"),
    C("cl_root_over_guest_body_max", "CL",
      b"GET / HTTP/1.1\r\n" + H + cl(5000) + b"\r\n", [413]),
    C("cl_listing_over_guest_body_max", "CL",
      b"GET /openstack HTTP/1.1\r\n" + H + IDENT + cl(4097) + b"\r\n",
      [413]),

    # ------------------------------------------------ password body limits
    C("pw_body_1021", "pw-body",
      post_pw(IDENT, cl(1021), b"a" * 1021), [400],
      reason="1021 bytes: 400 (nova-compat §2); body unread, close"),
    C("pw_cl_5000_short_body", "pw-body",
      post_pw(IDENT, cl(5000), b"abc"), [400],
      reason="the CL value counts, as in Nova (observed 400)"),
    C("pw_body_1021_set", "pw-body",
      post_pw(IDENT_SET, cl(1021), b"a" * 1021), [409],
      reason="409 before size (nova-compat §10.6)"),
    C("pw_body_4096", "pw-body",
      post_pw(IDENT, cl(4096), b"b" * 4096), [400]),
    C("pw_body_invalid_utf8", "pw-body",
      post_pw(IDENT, cl(2), b"\xc3\x28"), [400], after="open",
      reason="invalid UTF-8: 400 not 500 (nova-compat §10.3)"),
    C("pw_body_overlong_utf8", "pw-body",
      post_pw(IDENT, cl(2), b"\xc0\xaf"), [400], after="open"),
    C("pw_body_surrogate_utf8", "pw-body",
      post_pw(IDENT, cl(3), b"\xed\xa0\x80"), [400], after="open"),
    C("pw_body_empty", "pw-body",
      post_pw(IDENT, cl(0)), [200], after="open",
      reason="empty POST: 200 and nothing stored (nova-compat §2)"),
    C("pw_no_cl_no_te", "pw-body",
      post_pw(IDENT, b""), [200], after="open",
      reason="no CL and no TE: the body is empty (RFC 9112 §6.3)"),
    C("pw_put", "pw-body",
      b"PUT " + PW + b" HTTP/1.1\r\n" + H + IDENT + cl(3) + b"\r\nabc",
      [400], after="open", reason="GET and POST only (nova-compat §2)"),
    C("pw_delete", "pw-body",
      b"DELETE " + PW + b" HTTP/1.1\r\n" + H + IDENT + b"\r\n",
      [400], after="open"),
    C("pw_head", "pw-body",
      b"HEAD " + PW + b" HTTP/1.1\r\n" + H + IDENT + b"\r\n",
      [400], after="open", head=True),
    C("pw_patch", "pw-body",
      b"PATCH " + PW + b" HTTP/1.1\r\n" + H + IDENT + cl(0) + b"\r\n",
      [400], after="open"),
    C("pw_nul_body_set", "pw-body",
      post_pw(IDENT_SET, cl(3), b"a\x00b"), [409], after="open"),

    # --------------------------------------------------------------- obs-fold
    C("fold_space", "obs-fold",
      b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\r\n b\r\n\r\n", [400]),
    C("fold_tab", "obs-fold",
      b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\r\n\tb\r\n\r\n", [400]),
    C("fold_first_field", "obs-fold",
      b"GET / HTTP/1.1\r\n " + H + b"\r\n", [400]),
    C("fold_identity_header", "obs-fold",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID:\r\n {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400]),

    # ------------------------------------------------------- bare LF, bare CR
    C("lf_only", "bare-lf-cr", b"GET / HTTP/1.1\n" + H[:-2] + b"\n\n",
      [400]),
    C("lf_after_field", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H[:-2] + b"\n\r\n", [400]),
    C("lf_final", "bare-lf-cr", b"GET / HTTP/1.1\r\n" + H + b"\n", [400]),
    C("cr_only_line", "bare-lf-cr",
      b"GET / HTTP/1.1\r" + H + b"\r\n", [400]),
    C("cr_in_value", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", [400]),
    C("cr_cr_lf", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H[:-2] + b"\r\r\n\r\n", [400]),
    C("lf_in_target", "bare-lf-cr",
      b"GET /\n HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("cr_split_at_buffer_end", "bare-lf-cr",
      b"GET / HTTP/1.1\rX", [400], split=True,
      reason="a CR at the end of a read waits for the next byte"),
    C("lf_hides_te", "bare-lf-cr",
      post_pw(IDENT_SET, b"Content-Length: 3\nTransfer-Encoding: "
              b"chunked\r\n", b"abc"), [400]),

    # ------------------------------------------------------------------ NUL
    C("nul_method", "nul", b"G\x00ET / HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("nul_target", "nul", b"GET /\x00 HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("nul_version", "nul", b"GET / HTTP/1.1\x00\r\n" + H + b"\r\n",
      [400]),
    C("nul_header_name", "nul",
      b"GET / HTTP/1.1\r\n" + H + b"X\x00A: b\r\n\r\n", [400]),
    C("nul_header_value", "nul",
      b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", [400]),
    C("nul_leading", "nul", b"\x00" + ROOT, [400]),
    C("nul_identity_value", "nul",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID: {{IID}}\x00\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400]),
    C("nul_path_encoded", "nul", get(PW + b"%00", IDENT), [400],
      after="open",
      reason="well-framed head, invalid decoded path: 400, keep-alive"),

    # --------------------------------------------------------------- limits
    C("line_8192_ok", "limits",
      target_of_len(8192) + b"\r\n" + H + b"\r\n", [200], after="open",
      reason="request line <= 8192 bytes"),
    C("line_8193", "limits", target_of_len(8193) + b"\r\n" + H + b"\r\n",
      [414]),
    C("line_9000_no_crlf", "limits", target_of_len(9000), [414],
      reason="refused as soon as it is too long, no CRLF needed"),
    C("headers_16384_ok", "limits",
      b"GET / HTTP/1.1\r\n" + fields_of_len(16384) + b"\r\n", [200],
      after="open", reason="header section <= 16384 bytes"),
    C("headers_16385", "limits",
      b"GET / HTTP/1.1\r\n" + fields_of_len(16385) + b"\r\n", [431]),
    C("headers_one_huge_field", "limits",
      b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 17000 + b"\r\n\r\n", [431]),
    C("fields_64_ok", "limits",
      b"GET / HTTP/1.1\r\n" + H + nfields(63) + b"\r\n", [200],
      after="open"),
    C("fields_65", "limits",
      b"GET / HTTP/1.1\r\n" + H + nfields(64) + b"\r\n", [431]),
    C("fields_300", "limits",
      b"GET / HTTP/1.1\r\n" + nfields(300) + b"\r\n", [431]),
    C("fields_64_with_identity", "limits",
      b"GET " + PW + b" HTTP/1.1\r\n" + IDENT + nfields(61) + b"\r\n",
      [200], after="open", bodies=[b""]),
    C("empty_lines_4_ok", "limits", b"\r\n" * 4 + ROOT, [200],
      after="open"),
    C("empty_lines_5", "limits", b"\r\n" * 5 + ROOT, [400]),
    C("every_limit_at_max", "limits",
      b"\r\n" * 4 + target_of_len(8192) + b"\r\n" +
      fields_of_len(16384 - len(cl(4096)), count=15) + cl(4096) + b"\r\n" +
      b"z" * 4096, [200], after="open",
      reason="4 leading CRLFs, an 8192-byte line, a 16384-byte header "
      "section and a 4096-byte body on '/' are each within the documented "
      "limits, so the request must be answered"),

    # ------------------------------------------------------------- versions
    C("http09_simple", "version", b"GET /\r\n", [400],
      reason="HTTP/0.9 has no version: malformed for a 1.x parser"),
    C("http09_simple_blank", "version", b"GET /\r\n\r\n", [400]),
    C("h2_preface", "version", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [505],
      reason="version checked before target (worker/http.c)"),
    C("http_1_2", "version", get(b"/", version=b"HTTP/1.2"), [505],
      reason="DESIGN §3: 1.1 and 1.0 only (RFC 9110 §2.5 would allow "
      "treating 1.2 as 1.1; refusing is the documented choice)"),
    C("http_2_0_line", "version", get(b"/", version=b"HTTP/2.0"), [505]),
    C("reqline_double_space", "version",
      b"GET  / HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("reqline_tab_separator", "version",
      b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("reqline_trailing_space", "version",
      b"GET / HTTP/1.1 \r\n" + H + b"\r\n", [400]),
    C("http_lowercase", "version", get(b"/", version=b"http/1.1"), [400]),
    C("http_1_0_closes", "version", get(b"/", version=b"HTTP/1.0"),
      [200], reason="1.0 without keep-alive closes after the answer"),
    C("http_1_1_no_host", "version", b"GET / HTTP/1.1\r\n\r\n", [200],
      after="open", reason="accepted, as Nova's WSGI server does"),
    C("http_duplicate_host", "version",
      b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", [400]),

    # --------------------------------------------------------- target forms
    C("absolute_form", "target",
      b"GET http://169.254.169.254" + PW + b" HTTP/1.1\r\n" + H + IDENT +
      b"\r\n", [400], reason="origin-form only (README)"),
    C("absolute_form_https", "target",
      b"POST https://169.254.169.254" + PW + b" HTTP/1.1\r\n" + H + IDENT +
      cl(3) + b"\r\nabc", [400]),
    C("authority_connect", "target",
      b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("authority_get", "target",
      b"GET 169.254.169.254:80 HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("asterisk_options", "target",
      b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("relative_no_slash", "target",
      get(b"openstack/latest/password", IDENT), [400]),

    # ------------------------------------------------------------ traversal
    C("pct_dotdot_resolves", "traversal",
      get(b"/openstack/latest/%2e%2e/latest/password", IDENT), [200],
      after="open", bodies=[b""],
      reason="decoded, then normpath, as Nova (nova-compat §3)"),
    C("pct_dotdot_above_root", "traversal",
      get(b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd", IDENT), [404],
      after="open"),
    C("pct_2f_separator", "traversal",
      get(b"/openstack%2flatest%2fpassword", IDENT_SET), [200],
      after="open", bodies=[b"{{VALUE_SET}}"]),
    C("pct_2F_upper", "traversal",
      get(b"/openstack%2Flatest%2Fpassword", IDENT), [200], after="open"),
    C("dotdot_clamped_at_root", "traversal",
      get(b"/../../../openstack/latest/password", IDENT), [200],
      after="open"),
    C("overlong_utf8_dot", "traversal",
      get(b"/openstack/latest/%c0%ae%c0%ae/password", IDENT), [400],
      after="open", reason="overlong '.' is invalid UTF-8, never '..'"),
    C("invalid_utf8_ff", "traversal", get(b"/openstack/%ff", IDENT), [400],
      after="open"),
    C("invalid_utf8_truncated", "traversal",
      get(PW + b"%c3", IDENT), [400], after="open"),
    C("raw_high_byte_target", "traversal",
      get(b"/openstack/\xff", IDENT), [400],
      reason="raw non-ASCII in the target is a parse error: close"),
    C("bad_escape", "traversal",
      get(b"/openstack/latest/pass%zzword", IDENT), [400], after="open"),
    C("pct_crlf_injection", "traversal",
      get(b"/openstack%0d%0aX-Injected:%20y", IDENT), [400], after="open"),
    C("backslash_not_separator", "traversal",
      get(b"/openstack\\latest\\password", IDENT), [404], after="open"),
    C("pct_5c_backslash", "traversal",
      get(b"/openstack%5clatest%5cpassword", IDENT), [404], after="open"),
    C("dot_segments", "traversal",
      get(b"/openstack/./latest/./password/", IDENT), [200],
      after="open"),
    C("deep_then_climb", "traversal",
      get(b"/a" * 17 + b"/.." * 17 + PW, IDENT), [200], after="open"),
    C("too_deep", "traversal", get(b"/a" * 40, IDENT), [400],
      after="open"),
    C("below_password", "traversal", get(PW + b"/x", IDENT), [404],
      after="open"),
    C("password_before_grizzly", "traversal",
      get(b"/openstack/2012-08-10/password", IDENT), [404], after="open"),
    C("ec2_tree", "traversal", get(b"/latest/meta-data/", IDENT), [404],
      after="open", reason="EC2 paths are not served (README)"),
    C("query_ignored", "traversal",
      get(PW + b"?../../x=%00", IDENT), [200], after="open"),
    C("case_sensitive", "traversal",
      get(b"/OpenStack/latest/password", IDENT), [404], after="open"),
    C("double_encoding_not_decoded_twice", "traversal",
      get(b"/openstack/latest/%252e%252e/password", IDENT), [404],
      after="open"),
    C("pct_climb_to_root", "traversal",
      get(PW + b"%2f..%2f..%2f..%2f", IDENT), [200], after="open",
      bodies=[EC2_ROOT]),

    # --------------------------------------------------------- header names
    C("name_space_before_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", [400]),
    C("name_inner_space", "header-name",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400]),
    C("name_identity_space_before_colon", "header-name",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID : {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400]),
    C("name_empty", "header-name", b"GET / HTTP/1.1\r\n: x\r\n\r\n",
      [400]),
    C("name_no_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost x\r\n\r\n", [400]),
    C("name_tab_before_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", [400]),
    C("name_high_byte", "header-name",
      b"GET / HTTP/1.1\r\nX-\xe9: y\r\n\r\n", [400]),
    C("value_del", "header-name",
      b"GET / HTTP/1.1\r\nX-A: b\x7f\r\n\r\n", [400]),
    C("value_obs_text_ok", "header-name",
      b"GET / HTTP/1.1\r\nX-A: caf\xe9\r\n\r\n", [200], after="open"),

    # ------------------------------------------------------ identity headers
    C("ident_duplicate_instance", "identity",
      get(PW, IDENT + b"X-Instance-ID: {{IID_SET}}\r\n"), [400],
      after="open"),
    C("ident_duplicate_signature", "identity",
      get(PW, IDENT + b"X-Instance-ID-Signature: {{SIG_SET}}\r\n"), [400],
      after="open"),
    C("ident_signature_uppercase", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: {{SIG_UPPER}}\r\n"), [403],
      after="open"),
    C("ident_signature_of_other", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: {{SIG_SET}}\r\n"), [403],
      after="open"),
    C("ident_wrong_tenant", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: nope\r\n"
          b"X-Instance-ID-Signature: {{SIG}}\r\n"), [404], after="open"),
    C("ident_missing_tenant", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\n"
          b"X-Instance-ID-Signature: {{SIG}}\r\n"), [400], after="open"),
    C("ident_nonascii_signature", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: \xc3\xa9{{SIG}}\r\n"), [403],
      after="open", reason="403, not Nova's 500 (nova-compat §10.3)"),
    C("ident_long_instance_id", "identity",
      get(PW, b"X-Instance-ID: " + b"a" * 300 + b"\r\n"
          b"X-Tenant-ID: {{TENANT}}\r\nX-Instance-ID-Signature: {{SIG}}"
          b"\r\n"), [403], after="open"),
    C("ident_xff_allowed_in_proxy_mode", "identity",
      get(PW, IDENT + b"X-Forwarded-For: 10.9.8.7\r\n"), [200],
      after="open", bodies=[b""]),

    # ------------------------------------------------------------ pipelines
    C("pipe_three_valid", "pipeline",
      ROOT + get(PW, IDENT) + get(PW, IDENT_SET), [200, 200, 200],
      after="open", bodies=[EC2_ROOT, b"", b"{{VALUE_SET}}"]),
    C("pipe_then_clte", "pipeline",
      ROOT + b"POST / HTTP/1.1\r\n" + H + cl(4) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + ROOT, [200, 400],
      reason="answers in order, then close at the invalid one"),
    C("pipe_then_bare_lf", "pipeline",
      get(PW, IDENT) + b"GET / HTTP/1.1\n\n" + ROOT, [200, 400]),
    C("pipe_then_nul", "pipeline",
      ROOT + b"GET /\x00 HTTP/1.1\r\n\r\n" + ROOT, [200, 400]),
    C("pipe_then_fold", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n" + ROOT, [200, 400]),
    C("pipe_then_h2_preface", "pipeline",
      ROOT + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [200, 505]),
    C("pipe_then_414", "pipeline",
      ROOT + target_of_len(8193) + b"\r\n\r\n" + ROOT, [200, 414]),
    C("pipe_then_431", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\n" + nfields(65) + b"\r\n" + ROOT,
      [200, 431]),
    C("pipe_connection_close_middle", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n" +
      ROOT, [200, 200], reason="nothing after Connection: close is read"),
    C("pipe_empty_post_then_dup_cl", "pipeline",
      post_pw(IDENT, cl(0)) + post_pw(IDENT, cl(3) + cl(3), b"abc") + ROOT,
      [200, 400]),
    C("pipe_409_then_get", "pipeline",
      post_pw(IDENT_SET, cl(3), b"abc") + get(PW, IDENT_SET), [409, 200],
      after="open", bodies=[None, b"{{VALUE_SET}}"]),
    C("pipe_body_swallows_request", "pipeline",
      post_pw(IDENT_SET, cl(len(ROOT)), ROOT) + get(PW, IDENT), [409, 200],
      after="open", bodies=[None, b""],
      reason="a counted body that looks like a request is not one"),
    C("pipe_400_keepalive_then_valid", "pipeline",
      get(PW) + ROOT, [400, 200], after="open",
      reason="missing identity is not a framing error: keep-alive"),
    C("pipe_http10_then_more", "pipeline",
      get(b"/", version=b"HTTP/1.0") + ROOT, [200]),
    C("pipe_twenty", "pipeline", ROOT * 20, [200] * 20, after="open"),
    C("pipe_expect_417_then", "pipeline",
      b"POST / HTTP/1.1\r\n" + H + b"Expect: something\r\n" + cl(0) +
      b"\r\n" + ROOT, [417]),
    C("pipe_411_then", "pipeline",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n") +
      ROOT, [411]),
    C("pipe_invalid_then_post", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\nX-A: b\n\r\n" +
      post_pw(IDENT, cl(5), b"hello"), [200, 400],
      reason="the POST after the invalid request is never executed: the "
      "store must not change"),
    C("pipe_tecl_hides_post", "pipeline",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n" +
      cl(5) + b"\r\n0\r\n\r\n" + post_pw(IDENT, cl(5), b"hello"),
      [400], reason="a POST hidden behind TE.CL is never executed"),
    C("pipe_oversize_then_smuggle", "pipeline",
      post_pw(IDENT, cl(1100), SMUGGLED_PLAIN), [400],
      reason="an unread oversize body must never be parsed as a request"),

    # --------------------------------------------------- Expect: 100-continue
    C("expect_100_then_409", "expect",
      [post_pw(IDENT_SET, cl(5) + b"Expect: 100-continue\r\n"), b"hello"],
      [409], interim=[100], after="open"),
    C("expect_100_then_invalid_utf8", "expect",
      [post_pw(IDENT, cl(2) + b"Expect: 100-continue\r\n"), b"\xff\xfe"],
      [400], interim=[100], after="open"),
    C("expect_100_mixed_case", "expect",
      [post_pw(IDENT_SET, cl(5) + b"Expect: 100-Continue\r\n"), b"hello"],
      [409], interim=[100], after="open"),
    C("expect_100_root", "expect",
      [b"POST / HTTP/1.1\r\n" + H + cl(5) + b"Expect: 100-continue\r\n\r\n",
       b"hello"], [200], interim=[100], after="open"),
    C("expect_100_oversize_no_continue", "expect",
      post_pw(IDENT, cl(2000) + b"Expect: 100-continue\r\n"), [400],
      no_interim=True,
      reason="final answer instead of 100 when the body would be refused"),
    C("expect_100_zero_length", "expect",
      post_pw(IDENT, cl(0) + b"Expect: 100-continue\r\n"), [200],
      no_interim=True, after="open"),
    C("expect_100_http10_ignored", "expect",
      b"POST " + PW + b" HTTP/1.0\r\n" + H + IDENT_SET + cl(5) +
      b"Expect: 100-continue\r\n\r\nhello", [409], no_interim=True,
      reason="RFC 9110 §10.1.1: ignored in 1.0"),
    C("expect_other", "expect",
      b"GET / HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\n\r\n", [417]),

    # ------------------------------------------------------ one-byte writes
    C("split_get_password", "split", get(PW, IDENT_SET), [200],
      split=True, after="open", bodies=[b"{{VALUE_SET}}"]),
    C("split_post_409", "split", post_pw(IDENT_SET, cl(3), b"abc"), [409],
      split=True, after="open"),
    C("split_clte", "split",
      b"POST / HTTP/1.1\r\n" + H + cl(4) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [400], split=True),
    C("split_pipeline", "split", ROOT + get(PW, IDENT), [200, 200],
      split=True, after="open"),
    C("split_bare_lf", "split", b"GET / HTTP/1.1\r\nHost: x\n\r\n", [400],
      split=True),

    # ----------------------------------------------------- EOF and timeouts
    C("eof_partial_head", "eof", b"GET / HTTP/1.1\r\n" + H, [], eof=True,
      reason="half-close before the head ends: quiet close"),
    C("eof_after_request", "eof", ROOT, [200], eof=True),
    C("eof_after_identified_request", "eof", get(PW, IDENT_SET), [200],
      eof=True, bodies=[b"{{VALUE_SET}}"],
      reason="a half-close after a complete request still gets the answer,"
      " even one that waits for the broker"),
    C("eof_partial_body", "eof", post_pw(IDENT, cl(10), b"abc"), [],
      eof=True, reason="nothing stored from a partial body"),
    C("timeout_partial_head", "timeout", b"GET / HTTP/1.1\r\n" + H, [408],
      wait=5.0),

    # ------------------------------------------------------------- methods
    C("method_unknown_root", "method", b"BREW / HTTP/1.1\r\n" + H + b"\r\n",
      [200], after="open", reason="'/' answers any method (nova-compat §3)"),
    C("method_lowercase_root", "method",
      b"get / HTTP/1.1\r\n" + H + b"\r\n", [200], after="open"),
    C("method_bad_token", "method",
      b"GE(T / HTTP/1.1\r\n" + H + b"\r\n", [400]),
    C("method_unknown_listing", "method",
      b"BREW /openstack/latest HTTP/1.1\r\n" + H + IDENT + b"\r\n", [200],
      after="open", reason="non-password paths ignore the method "
      "(nova-compat §3)"),
]
