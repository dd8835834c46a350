# SPDX-License-Identifier: ISC
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
  rule      the rule that decides the expected answer, cited: an RFC section
            (RFC 9110, 9112, 6585, 3629, 3986), Nova's behaviour
            (nova-compat §N, docs/nova-compat.md), or a divergence
            README.md documents.  Never what the worker happens to do:
            expected answers come from the specification, not from the
            implementation's output.  test_hostile_corpus.py refuses a case
            without one.

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


def C(name, group, raw, expect, after="close", rule="", **kw):
    d = {"name": name, "group": group, "raw": raw, "expect": expect,
         "after": after, "rule": rule}
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
      [400],
      rule="RFC 9112 §6.1: a request with both Transfer-Encoding and "
      "Content-Length may be refused, and the connection MUST close after the "
      "answer; README: refused with 400 and a close"),
    C("clte_smuggle_root", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(5) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED_GET,
      [400],
      rule="RFC 9112 §6.1: TE with CL, 400 and the connection MUST close, so "
      "the request behind it is never read; README"),
    C("clte_te_first", "CL.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n" + cl(3), b"abc"),
      [400],
      rule="RFC 9112 §6.1: a request with both Transfer-Encoding and "
      "Content-Length may be refused, and the connection MUST close after the "
      "answer; README: refused with 400 and a close"),
    C("clte_cl_zero", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(0) +
      b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      [400],
      rule="RFC 9112 §6.1: a request with both Transfer-Encoding and "
      "Content-Length may be refused, and the connection MUST close after the "
      "answer; README: refused with 400 and a close"),
    C("clte_te_identity", "CL.TE",
      b"POST / HTTP/1.1\r\n" + H + cl(5) +
      b"Transfer-Encoding: identity\r\n\r\nhello", [400],
      rule="RFC 9112 §6.1: a request with both Transfer-Encoding and "
      "Content-Length may be refused, and the connection MUST close after the "
      "answer; README: refused with 400 and a close"),
    C("clte_pw_set", "CL.TE",
      post_pw(IDENT_SET, cl(4) + b"Transfer-Encoding: chunked\r\n",
              b"0\r\n\r\n"),
      [400],
      rule="RFC 9112 §6.1 and README: TE with CL is a framing error, 400 and "
      "close, before the instance (or its set password) is looked at"),

    # ---------------------------------------------------------------- TE.CL
    C("tecl_basic", "TE.CL",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n" + cl(3),
              b"8\r\nSMUGGLED\r\n0\r\n\r\n"), [400],
      rule="RFC 9112 §6.1: a request with both Transfer-Encoding and "
      "Content-Length may be refused, and the connection MUST close after the "
      "answer; README: refused with 400 and a close"),
    C("tecl_root_pipeline", "TE.CL",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n" +
      cl(40) + b"\r\n0\r\n\r\n" + SMUGGLED_GET, [400],
      rule="RFC 9112 §6.1: TE with CL, 400 and the connection MUST close, so "
      "the request behind it is never read; README"),

    # ---------------------------------------------------------------- TE.TE
    C("te_chunked_pw", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n",
              b"5\r\nhello\r\n0\r\n\r\n"),
      [411],
      rule="nova-compat §10.3 (divergence allowed) and README: a chunked POST "
      "without Content-Length gets 411, not Nova's 500; its body is never "
      "read, so the connection closes"),
    C("te_chunked_pw_set", "TE.TE",
      post_pw(IDENT_SET, b"Transfer-Encoding: chunked\r\n",
              b"5\r\nhello\r\n0\r\n\r\n"),
      [409],
      rule="nova-compat §2: 409 is checked before anything about the body; "
      "the chunked body is unread (README), so the connection closes"),
    C("te_chunked_root", "TE.TE",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
      b"0\r\n\r\n" + ROOT, [411],
      rule="RFC 9110 §15.5.12: a server that will not read a body without a "
      "Content-Length answers 411; README: chunked bodies are never read, the "
      "connection closes and the request behind it is never answered"),
    C("te_xchunked", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"),
      [400],
      rule="RFC 9112 §6.3: chunked is not the final coding, so the body "
      "length is unknown: 400 and close"),
    C("te_chunked_identity_list", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked, identity\r\n"), [400],
      rule="RFC 9112 §6.3: the codings, as one list (RFC 9110 §5.3), do not "
      "end in chunked: 400 and close"),
    C("te_identity_chunked_list", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: identity, chunked\r\n",
              b"0\r\n\r\n"), [501],
      rule="RFC 9112 §6.1: chunked is last, but 'identity' is a coding sealmd "
      "does not implement (no longer registered): 501 and close (README)"),
    C("te_duplicate_chunked", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n"
              b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n"), [400],
      rule="RFC 9112 §7: chunked applied twice ('chunked, chunked' once the "
      "lines are joined, RFC 9110 §5.3) is invalid: 400 and close"),
    C("te_duplicate_mixed", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n"
              b"Transfer-Encoding: identity\r\n", b"0\r\n\r\n"), [400],
      rule="RFC 9112 §6.3: the codings, as one list (RFC 9110 §5.3), do not "
      "end in chunked: 400 and close"),
    C("te_uppercase", "TE.TE",
      post_pw(IDENT, b"transfer-encoding: CHUNKED\r\n", b"0\r\n\r\n"),
      [411],
      rule="RFC 9110 §5.1 field names and RFC 9112 §7 coding names are "
      "case-insensitive: this is chunked, so 411 (nova-compat §10.3)"),
    C("te_tab_ows", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding:\tchunked\t\r\n", b"0\r\n\r\n"),
      [411],
      rule="RFC 9112 §5.1 / RFC 9110 §5.6.3: HTAB is OWS, not part of the "
      "value: exactly chunked, so 411 (nova-compat §10.3)"),
    C("te_space_before_colon", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding : chunked\r\n" + cl(3), b"abc"),
      [400],
      rule="RFC 9112 §5.1: whitespace between a field name and the colon MUST "
      "be refused with 400"),
    C("te_vertical_tab", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: \x0bchunked\r\n"), [400],
      rule="RFC 9110 §5.5: a control character in a field value is invalid; "
      "README: refused with 400 and a close"),
    C("te_quoted", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: \"chunked\"\r\n"), [400],
      rule="RFC 9112 §7 / RFC 9110 §5.6.2: a transfer coding is a token, and "
      "a quoted string is not one: the body length is unknown (RFC 9112 "
      "§6.3), 400 and close"),
    C("te_folded", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding:\r\n chunked\r\n"), [400],
      rule="RFC 9112 §5.2: obs-fold outside message/http MUST be refused with "
      "400 or replaced; README: refused with 400 and a close"),
    C("te_nul", "TE.TE",
      post_pw(IDENT, b"Transfer-Encoding: chunked\x00\r\n"), [400],
      rule="RFC 9110 §5.5: a field value with NUL MUST be refused or the NUL "
      "replaced; README: refused with 400 and a close"),
    C("te_underscore_is_other_field", "TE.TE",
      post_pw(IDENT, b"Transfer_Encoding: chunked\r\n" + cl(0)),
      [200], after="open",
      rule="RFC 9110 §5.1: Transfer_Encoding is a different field name (any "
      "token); CL 0 is an empty POST, 200 and nothing stored "
      "(nova-compat §2)"),
    C("te_http10", "TE.TE",
      b"POST " + PW + b" HTTP/1.0\r\n" + H + IDENT +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      [(400, 411)],
      rule="RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message MUST be "
      "treated as faulty framing and the connection closed: 400, or 411 as "
      "for any chunked request"),
    C("te_empty_value", "TE.TE",
      b"GET / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n\r\n", [400],
      rule="RFC 9112 §6.3: a Transfer-Encoding that does not end in chunked "
      "(here empty) leaves the body length unknown: 400 and close"),

    # ------------------------------------------------------- Content-Length
    C("cl_duplicate_equal", "CL",
      post_pw(IDENT_SET, cl(3) + cl(3), b"abc"), [400],
      rule="RFC 9110 §8.6 lets a recipient refuse repeated or listed values; "
      "README: a duplicate Content-Length is refused, then RFC 9112 §6.3: "
      "invalid Content-Length, 400 and close"),
    C("cl_duplicate_conflict", "CL",
      post_pw(IDENT_SET, cl(3) + cl(5), b"abcde"), [400],
      rule="RFC 9110 §8.6 lets a recipient refuse repeated or listed values; "
      "README: a duplicate Content-Length is refused, then RFC 9112 §6.3: "
      "invalid Content-Length, 400 and close"),
    C("cl_duplicate_case", "CL",
      post_pw(IDENT_SET, cl(3) + b"content-length: 3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6 lets a recipient refuse repeated or listed values; "
      "README: a duplicate Content-Length is refused, then RFC 9112 §6.3: "
      "invalid Content-Length, 400 and close"),
    C("cl_list", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3, 3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6 lets a recipient refuse repeated or listed values; "
      "README: a duplicate Content-Length is refused, then RFC 9112 §6.3: "
      "invalid Content-Length, 400 and close"),
    C("cl_plus_sign", "CL",
      post_pw(IDENT_SET, b"Content-Length: +3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_minus_sign", "CL",
      post_pw(IDENT_SET, b"Content-Length: -3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_inner_space", "CL",
      post_pw(IDENT_SET, b"Content-Length: 1 0\r\n", b"abcdefghij"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_ows_around", "CL",
      post_pw(IDENT_SET, b"Content-Length:   3 \t\r\n", b"abc"),
      [409], after="open",
      rule="RFC 9112 §5.1: OWS around a field value is not part of it; the "
      "framing is fine and the set password gives 409 (nova-compat §2)"),
    C("cl_hex", "CL",
      post_pw(IDENT_SET, b"Content-Length: 0x3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_hex_letters", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3a\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_decimal_point", "CL",
      post_pw(IDENT_SET, b"Content-Length: 3.0\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_huge_digits", "CL",
      post_pw(IDENT_SET, b"Content-Length: 99999999999999999999999\r\n",
              b"abc"), [400],
      rule="RFC 9110 §8.6: a recipient MUST guard against overflow in a large "
      "Content-Length; README: one above 1 GiB is refused as malformed, 400 "
      "and close, before any route (never wrapped to a small length)"),
    C("cl_wraps_2_64", "CL",
      post_pw(IDENT_SET, b"Content-Length: 18446744073709551619\r\n",
              b"abc"), [400],
      rule="RFC 9110 §8.6: a recipient MUST guard against overflow in a large "
      "Content-Length; README: one above 1 GiB is refused as malformed, 400 "
      "and close, before any route (never wrapped to a small length)"),
    C("cl_above_1gib", "CL",
      b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1073741825\r\n\r\nabc",
      [400],
      rule="RFC 9110 §8.6: a recipient MUST guard against overflow in a large "
      "Content-Length; README: one above 1 GiB is refused as malformed, 400 "
      "and close, before any route (never wrapped to a small length)"),
    C("cl_leading_zeros", "CL",
      post_pw(IDENT_SET, b"Content-Length: 0003\r\n", b"abc"),
      [409], after="open",
      rule="RFC 9110 §8.6: 1*DIGIT allows leading zeros, 0003 is 3; the set "
      "password gives 409 (nova-compat §2)"),
    C("cl_empty", "CL",
      post_pw(IDENT_SET, b"Content-Length:\r\n"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_unicode_digit", "CL",
      post_pw(IDENT_SET, b"Content-Length: \xd9\xa3\r\n", b"abc"), [400],
      rule="RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: an "
      "invalid Content-Length MUST get 400 and a close"),
    C("cl_body_short_times_out", "CL",
      post_pw(IDENT, cl(10), b"abc"), [408], wait=4.0,
      rule="RFC 9110 §15.5.9: the request did not complete in time, 408; "
      "README: every phase has a timeout; nothing stored"),
    C("cl_body_longer_then_eof", "CL",
      post_pw(IDENT_SET, cl(3), b"abcdef"), [409], eof=True,
      rule="RFC 9112 §6.3: 3 bytes are the body; the rest is the start of the "
      "next request, cut by EOF (RFC 9112 §9.6: close without an answer); the "
      "set password gives 409 (nova-compat §2)"),
    C("cl_get_body_swallows_request", "CL",
      b"GET / HTTP/1.1\r\n" + H + cl(len(SMUGGLED_PLAIN)) + b"\r\n" +
      SMUGGLED_PLAIN, [200], after="open", bodies=[EC2_ROOT],
      rule="RFC 9112 §6.3: Content-Length frames the body of any method, so "
      "the counted bytes are body and never parsed as a request; '/' answers "
      "the listing (nova-compat §3)"),
    C("cl_root_over_guest_body_max", "CL",
      b"GET / HTTP/1.1\r\n" + H + cl(5000) + b"\r\n", [413],
      rule="RFC 9110 §15.5.14: a body larger than the server will read gets "
      "413; README: 4 KiB outside the password route; unread, so close"),
    C("cl_listing_over_guest_body_max", "CL",
      b"GET /openstack HTTP/1.1\r\n" + H + IDENT + cl(4097) + b"\r\n",
      [413],
      rule="RFC 9110 §15.5.14: a body larger than the server will read gets "
      "413; README: 4 KiB outside the password route; unread, so close"),

    # ------------------------------------------------ password body limits
    C("pw_body_1021", "pw-body",
      post_pw(IDENT, cl(1021), b"a" * 1021), [400],
      rule="nova-compat §2: a body over 1020 bytes gets 400; README: judged "
      "by Content-Length, body unread, so close"),
    C("pw_cl_5000_short_body", "pw-body",
      post_pw(IDENT, cl(5000), b"abc"), [400],
      rule="nova-compat §2: Nova checks the Content-Length value (observed "
      "400 for 5000 with 3 bytes); body unread, so close"),
    C("pw_body_1021_set", "pw-body",
      post_pw(IDENT_SET, cl(1021), b"a" * 1021), [409],
      rule="nova-compat §2 and §10.6: 409 for a set password comes before "
      "any check of the body"),
    C("pw_body_4096", "pw-body",
      post_pw(IDENT, cl(4096), b"b" * 4096), [400],
      rule="nova-compat §2: a body over 1020 bytes gets 400; README: judged "
      "by Content-Length, body unread, so close"),
    C("pw_body_invalid_utf8", "pw-body",
      post_pw(IDENT, cl(2), b"\xc3\x28"), [400], after="open",
      rule="nova-compat §10.3 (divergence allowed) and README: a body that is "
      "not UTF-8 (RFC 3629: overlong forms and surrogates are not) gets 400, "
      "not Nova's 500; the framing is fine, so keep-alive"),
    C("pw_body_overlong_utf8", "pw-body",
      post_pw(IDENT, cl(2), b"\xc0\xaf"), [400], after="open",
      rule="nova-compat §10.3 (divergence allowed) and README: a body that is "
      "not UTF-8 (RFC 3629: overlong forms and surrogates are not) gets 400, "
      "not Nova's 500; the framing is fine, so keep-alive"),
    C("pw_body_surrogate_utf8", "pw-body",
      post_pw(IDENT, cl(3), b"\xed\xa0\x80"), [400], after="open",
      rule="nova-compat §10.3 (divergence allowed) and README: a body that is "
      "not UTF-8 (RFC 3629: overlong forms and surrogates are not) gets 400, "
      "not Nova's 500; the framing is fine, so keep-alive"),
    C("pw_body_empty", "pw-body",
      post_pw(IDENT, cl(0)), [200], after="open",
      rule="nova-compat §2: an empty POST gets 200 and stores nothing"),
    C("pw_no_cl_no_te", "pw-body",
      post_pw(IDENT, b""), [200], after="open",
      rule="RFC 9112 §6.3 (rule 7): a request with neither Content-Length nor "
      "Transfer-Encoding has an empty body; nova-compat §2: an empty POST is "
      "200 and stores nothing"),
    C("pw_put", "pw-body",
      b"PUT " + PW + b" HTTP/1.1\r\n" + H + IDENT + cl(3) + b"\r\nabc",
      [400], after="open",
      rule="nova-compat §2: methods other than GET and POST get 400 'GET and "
      "POST only are supported'"),
    C("pw_delete", "pw-body",
      b"DELETE " + PW + b" HTTP/1.1\r\n" + H + IDENT + b"\r\n",
      [400], after="open",
      rule="nova-compat §2: methods other than GET and POST get 400 'GET and "
      "POST only are supported'"),
    C("pw_head", "pw-body",
      b"HEAD " + PW + b" HTTP/1.1\r\n" + H + IDENT + b"\r\n",
      [400], after="open", head=True,
      rule="nova-compat §2: HEAD gets 400 with no body (observed); RFC 9110 "
      "§9.3.2 no content in a HEAD answer"),
    C("pw_patch", "pw-body",
      b"PATCH " + PW + b" HTTP/1.1\r\n" + H + IDENT + cl(0) + b"\r\n",
      [400], after="open",
      rule="nova-compat §2: methods other than GET and POST get 400 'GET and "
      "POST only are supported'"),
    C("pw_nul_body_set", "pw-body",
      post_pw(IDENT_SET, cl(3), b"a\x00b"), [409], after="open",
      rule="nova-compat §2 and §10.6: 409 for a set password comes before "
      "any check of the body"),

    # --------------------------------------------------------------- obs-fold
    C("fold_space", "obs-fold",
      b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\r\n b\r\n\r\n", [400],
      rule="RFC 9112 §5.2: obs-fold outside message/http MUST be refused with "
      "400 or replaced; README: refused with 400 and a close"),
    C("fold_tab", "obs-fold",
      b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\r\n\tb\r\n\r\n", [400],
      rule="RFC 9112 §5.2: obs-fold outside message/http MUST be refused with "
      "400 or replaced; README: refused with 400 and a close"),
    C("fold_first_field", "obs-fold",
      b"GET / HTTP/1.1\r\n " + H + b"\r\n", [400],
      rule="RFC 9112 §2.2: whitespace between the start-line and the first "
      "field MUST be refused or the line skipped; README: refused, 400 and "
      "close"),
    C("fold_identity_header", "obs-fold",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID:\r\n {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400],
      rule="RFC 9112 §5.2: obs-fold outside message/http MUST be refused with "
      "400 or replaced; README: refused with 400 and a close"),

    # ------------------------------------------------------- bare LF, bare CR
    C("lf_only", "bare-lf-cr", b"GET / HTTP/1.1\n" + H[:-2] + b"\n\n",
      [400],
      rule="RFC 9112 §2.2 lets a recipient accept a bare LF as a line end "
      "(MAY); README: sealmd refuses a bare LF, 400 and close"),
    C("lf_after_field", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H[:-2] + b"\n\r\n", [400],
      rule="RFC 9112 §2.2 lets a recipient accept a bare LF as a line end "
      "(MAY); README: sealmd refuses a bare LF, 400 and close"),
    C("lf_final", "bare-lf-cr", b"GET / HTTP/1.1\r\n" + H + b"\n", [400],
      rule="RFC 9112 §2.2 lets a recipient accept a bare LF as a line end "
      "(MAY); README: sealmd refuses a bare LF, 400 and close"),
    C("cr_only_line", "bare-lf-cr",
      b"GET / HTTP/1.1\r" + H + b"\r\n", [400],
      rule="RFC 9112 §2.2: a bare CR MUST be treated as invalid or replaced; "
      "README: refused with 400 and a close"),
    C("cr_in_value", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", [400],
      rule="RFC 9112 §2.2: a bare CR MUST be treated as invalid or replaced; "
      "README: refused with 400 and a close"),
    C("cr_cr_lf", "bare-lf-cr",
      b"GET / HTTP/1.1\r\n" + H[:-2] + b"\r\r\n\r\n", [400],
      rule="RFC 9112 §2.2: a bare CR MUST be treated as invalid or replaced; "
      "README: refused with 400 and a close"),
    C("lf_in_target", "bare-lf-cr",
      b"GET /\n HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3: LF cannot be part of a request-target: an invalid "
      "request-line, 400 and close"),
    C("cr_split_at_buffer_end", "bare-lf-cr",
      b"GET / HTTP/1.1\rX", [400], split=True,
      rule="RFC 9112 §2.2: a CR not followed by LF is a bare CR and invalid, "
      "even when the LF's place arrives in a later write; 400 and close"),
    C("lf_hides_te", "bare-lf-cr",
      post_pw(IDENT_SET, b"Content-Length: 3\nTransfer-Encoding: "
              b"chunked\r\n", b"abc"), [400],
      rule="RFC 9112 §2.2 and README: the bare LF is refused (400, close) "
      "before it could hide Transfer-Encoding from one reader"),

    # ------------------------------------------------------------------ NUL
    C("nul_method", "nul", b"G\x00ET / HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3 / RFC 9110 §9.1: the method is a token and NUL is "
      "not a tchar: invalid request-line, 400 and close"),
    C("nul_target", "nul", b"GET /\x00 HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3.2: NUL cannot appear in a request-target: invalid "
      "request-line, 400 and close"),
    C("nul_version", "nul", b"GET / HTTP/1.1\x00\r\n" + H + b"\r\n",
      [400],
      rule="RFC 9112 §2.3: HTTP-version is exactly HTTP/DIGIT.DIGIT: invalid "
      "request-line, 400 and close"),
    C("nul_header_name", "nul",
      b"GET / HTTP/1.1\r\n" + H + b"X\x00A: b\r\n\r\n", [400],
      rule="RFC 9110 §5.1: a field name is a token; a byte that is not a "
      "tchar makes the field line invalid: 400 and close (README)"),
    C("nul_header_value", "nul",
      b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", [400],
      rule="RFC 9110 §5.5: a field value with NUL MUST be refused or the NUL "
      "replaced; README: refused with 400 and a close"),
    C("nul_leading", "nul", b"\x00" + ROOT, [400],
      rule="RFC 9112 §2.2: only empty lines (CRLF) may precede a "
      "request-line; anything else is an invalid request-line, 400 and close"),
    C("nul_identity_value", "nul",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID: {{IID}}\x00\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400],
      rule="RFC 9110 §5.5: a field value with NUL MUST be refused or the NUL "
      "replaced; README: refused with 400 and a close"),
    C("nul_path_encoded", "nul", get(PW + b"%00", IDENT), [400],
      after="open",
      rule="README (divergence from Nova's 404): a path that decodes to NUL "
      "or another control byte gets 400; the framing is fine, so keep-alive"),

    # --------------------------------------------------------------- limits
    C("line_8192_ok", "limits",
      target_of_len(8192) + b"\r\n" + H + b"\r\n", [200], after="open",
      rule="README: a request line of up to 8 KiB is served"),
    C("line_8193", "limits", target_of_len(8193) + b"\r\n" + H + b"\r\n",
      [414],
      rule="RFC 9112 §3: a request-target longer than the server parses MUST "
      "get 414; README: 8 KiB of request line; refused as soon as it is "
      "longer, without waiting for its end"),
    C("line_9000_no_crlf", "limits", target_of_len(9000), [414],
      rule="RFC 9112 §3: a request-target longer than the server parses MUST "
      "get 414; README: 8 KiB of request line; refused as soon as it is "
      "longer, without waiting for its end"),
    C("headers_16384_ok", "limits",
      b"GET / HTTP/1.1\r\n" + fields_of_len(16384) + b"\r\n", [200],
      after="open",
      rule="README: a header section of up to 16 KiB is served"),
    C("headers_16385", "limits",
      b"GET / HTTP/1.1\r\n" + fields_of_len(16385) + b"\r\n", [431],
      rule="RFC 6585 §5: header fields larger than the server accepts get "
      "431; README: 16 KiB of header section"),
    C("headers_one_huge_field", "limits",
      b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 17000 + b"\r\n\r\n", [431],
      rule="RFC 6585 §5: header fields larger than the server accepts get "
      "431; README: 16 KiB of header section"),
    C("fields_64_ok", "limits",
      b"GET / HTTP/1.1\r\n" + H + nfields(63) + b"\r\n", [200],
      after="open",
      rule="README: up to 64 header fields are served"),
    C("fields_65", "limits",
      b"GET / HTTP/1.1\r\n" + H + nfields(64) + b"\r\n", [431],
      rule="RFC 6585 §5: too many header fields, 431; README: 64 at most"),
    C("fields_300", "limits",
      b"GET / HTTP/1.1\r\n" + nfields(300) + b"\r\n", [431],
      rule="RFC 6585 §5: too many header fields, 431; README: 64 at most"),
    C("fields_64_with_identity", "limits",
      b"GET " + PW + b" HTTP/1.1\r\n" + IDENT + nfields(61) + b"\r\n",
      [200], after="open", bodies=[b""],
      rule="README: up to 64 header fields are served"),
    C("empty_lines_4_ok", "limits", b"\r\n" * 4 + ROOT, [200],
      after="open",
      rule="RFC 9112 §2.2: a server SHOULD ignore at least one empty line "
      "before the request-line; README: up to 4 are ignored"),
    C("empty_lines_5", "limits", b"\r\n" * 5 + ROOT, [400],
      rule="README: more than 4 empty lines before a request-line are "
      "refused, 400 and close (RFC 9112 §2.2 asks only for at least one to be "
      "ignored)"),
    C("every_limit_at_max", "limits",
      b"\r\n" * 4 + target_of_len(8192) + b"\r\n" +
      fields_of_len(16384 - len(cl(4096)), count=15) + cl(4096) + b"\r\n" +
      b"z" * 4096, [200], after="open",
      rule="README: 4 empty lines, an 8 KiB request line, a 16 KiB header "
      "section and a 4 KiB body on '/' are each within the documented limits"),

    # ------------------------------------------------------------- versions
    C("http09_simple", "version", b"GET /\r\n", [400],
      rule="RFC 9112 §3: a request-line has an HTTP-version; without one it "
      "is invalid (HTTP/0.9 is not supported): 400 and close"),
    C("http09_simple_blank", "version", b"GET /\r\n\r\n", [400],
      rule="RFC 9112 §3: a request-line has an HTTP-version; without one it "
      "is invalid (HTTP/0.9 is not supported): 400 and close"),
    C("h2_preface", "version", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [505],
      rule="RFC 9110 §15.6.6: a major version the server does not support "
      "gets 505; README: HTTP/1.1 and 1.0 only; then close"),
    C("http_1_2", "version", get(b"/", version=b"HTTP/1.2"), [505],
      rule="README (documented choice): HTTP/1.1 and 1.0 only, others 505 "
      "(RFC 9110 §2.5 would allow serving 1.2 as 1.1); then close"),
    C("http_2_0_line", "version", get(b"/", version=b"HTTP/2.0"), [505],
      rule="RFC 9110 §15.6.6: a major version the server does not support "
      "gets 505; README: HTTP/1.1 and 1.0 only; then close"),
    C("reqline_double_space", "version",
      b"GET  / HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3: method SP request-target SP HTTP-version, single "
      "SPs; lenient whitespace parsing is only a MAY: invalid request-line, "
      "400"),
    C("reqline_tab_separator", "version",
      b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3: method SP request-target SP HTTP-version, single "
      "SPs; lenient whitespace parsing is only a MAY: invalid request-line, "
      "400"),
    C("reqline_trailing_space", "version",
      b"GET / HTTP/1.1 \r\n" + H + b"\r\n", [400],
      rule="RFC 9112 §3: method SP request-target SP HTTP-version, single "
      "SPs; lenient whitespace parsing is only a MAY: invalid request-line, "
      "400"),
    C("http_lowercase", "version", get(b"/", version=b"http/1.1"), [400],
      rule="RFC 9112 §2.3: HTTP-name is case-sensitive 'HTTP': invalid "
      "request-line, 400 and close"),
    C("http_1_0_closes", "version", get(b"/", version=b"HTTP/1.0"),
      [200],
      rule="RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the "
      "connection after its answer; nothing after it is read"),
    C("http_1_1_no_host", "version", b"GET / HTTP/1.1\r\n\r\n", [200],
      after="open",
      rule="README (documented divergence from RFC 9112 §3.2, which asks for "
      "400): an HTTP/1.1 request without Host is served; sealmd is one "
      "authority, so Host selects nothing"),
    C("http_duplicate_host", "version",
      b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", [400],
      rule="RFC 9112 §3.2: an HTTP/1.1 request with more than one Host MUST "
      "get 400"),

    # --------------------------------------------------------- target forms
    C("absolute_form", "target",
      b"GET http://169.254.169.254" + PW + b" HTTP/1.1\r\n" + H + IDENT +
      b"\r\n", [400],
      rule="README (documented divergence from RFC 9112 §3.2.2, which asks "
      "servers to accept absolute-form): origin-form only, 400 and close"),
    C("absolute_form_https", "target",
      b"POST https://169.254.169.254" + PW + b" HTTP/1.1\r\n" + H + IDENT +
      cl(3) + b"\r\nabc", [400],
      rule="README (documented divergence from RFC 9112 §3.2.2, which asks "
      "servers to accept absolute-form): origin-form only, 400 and close"),
    C("authority_connect", "target",
      b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="README: origin-form targets only (RFC 9112 §3.2.3 and §3.2.4 "
      "forms are for proxies and server-wide OPTIONS): 400 and close"),
    C("authority_get", "target",
      b"GET 169.254.169.254:80 HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="README: origin-form targets only (RFC 9112 §3.2.3 and §3.2.4 "
      "forms are for proxies and server-wide OPTIONS): 400 and close"),
    C("asterisk_options", "target",
      b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="README: origin-form targets only (RFC 9112 §3.2.3 and §3.2.4 "
      "forms are for proxies and server-wide OPTIONS): 400 and close"),
    C("relative_no_slash", "target",
      get(b"openstack/latest/password", IDENT), [400],
      rule="RFC 9112 §3.2.1: origin-form starts with '/'; anything else is no "
      "valid request-target: 400 and close"),

    # ------------------------------------------------------------ traversal
    C("pct_dotdot_resolves", "traversal",
      get(b"/openstack/latest/%2e%2e/latest/password", IDENT), [200],
      after="open", bodies=[b""],
      rule="nova-compat §3: PATH_INFO is percent-decoded, then normpath: "
      "%2e%2e climbs and %2f separates, as in Nova"),
    C("pct_dotdot_above_root", "traversal",
      get(b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd", IDENT), [404],
      after="open",
      rule="nova-compat §3: normpath stops at the root; /etc/passwd is then "
      "looked up in the EC2 tree: 404"),
    C("pct_2f_separator", "traversal",
      get(b"/openstack%2flatest%2fpassword", IDENT_SET), [200],
      after="open", bodies=[b"{{VALUE_SET}}"],
      rule="nova-compat §3: PATH_INFO is percent-decoded, then normpath: "
      "%2e%2e climbs and %2f separates, as in Nova"),
    C("pct_2F_upper", "traversal",
      get(b"/openstack%2Flatest%2Fpassword", IDENT), [200], after="open",
      rule="nova-compat §3: PATH_INFO is percent-decoded, then normpath: "
      "%2e%2e climbs and %2f separates, as in Nova"),
    C("dotdot_clamped_at_root", "traversal",
      get(b"/../../../openstack/latest/password", IDENT), [200],
      after="open",
      rule="nova-compat §3: normpath does not climb above the root: this is "
      "/openstack/latest/password, 200"),
    C("overlong_utf8_dot", "traversal",
      get(b"/openstack/latest/%c0%ae%c0%ae/password", IDENT), [400],
      after="open",
      rule="README (divergence from Nova's 404): a path that decodes to "
      "invalid UTF-8 (RFC 3629: an overlong '.' is invalid, never '..') gets "
      "400; keep-alive"),
    C("invalid_utf8_ff", "traversal", get(b"/openstack/%ff", IDENT), [400],
      after="open",
      rule="README (divergence from Nova's 404): a path that decodes to "
      "invalid UTF-8 (RFC 3629: an overlong '.' is invalid, never '..') gets "
      "400; keep-alive"),
    C("invalid_utf8_truncated", "traversal",
      get(PW + b"%c3", IDENT), [400], after="open",
      rule="README (divergence from Nova's 404): a path that decodes to "
      "invalid UTF-8 (RFC 3629: an overlong '.' is invalid, never '..') gets "
      "400; keep-alive"),
    C("raw_high_byte_target", "traversal",
      get(b"/openstack/\xff", IDENT), [400],
      rule="RFC 9112 §3.2 / RFC 3986: a raw byte above 0x7e is not allowed in "
      "a request-target: invalid request-line, 400 and close"),
    C("bad_escape", "traversal",
      get(b"/openstack/latest/pass%zzword", IDENT), [400], after="open",
      rule="README (divergence from Nova's 404): a malformed %-escape gets "
      "400; keep-alive"),
    C("pct_crlf_injection", "traversal",
      get(b"/openstack%0d%0aX-Injected:%20y", IDENT), [400], after="open",
      rule="README (divergence from Nova's 404): a path that decodes to CR or "
      "LF gets 400, so it can reach no header or log line; keep-alive"),
    C("backslash_not_separator", "traversal",
      get(b"/openstack\\latest\\password", IDENT), [404], after="open",
      rule="nova-compat §3: normpath is posixpath: a backslash is no "
      "separator, so the path is unknown: 404"),
    C("pct_5c_backslash", "traversal",
      get(b"/openstack%5clatest%5cpassword", IDENT), [404], after="open",
      rule="nova-compat §3: normpath is posixpath: a backslash is no "
      "separator, so the path is unknown: 404"),
    C("dot_segments", "traversal",
      get(b"/openstack/./latest/./password/", IDENT), [200],
      after="open",
      rule="nova-compat §3: '.' segments and a trailing '/' resolve under "
      "normpath"),
    C("deep_then_climb", "traversal",
      get(b"/a" * 17 + b"/.." * 17 + PW, IDENT), [200], after="open",
      rule="nova-compat §3: normpath resolves the climb; README: only the "
      "depth that remains counts against the limit of 16 segments"),
    C("too_deep", "traversal", get(b"/a" * 40, IDENT), [400],
      after="open",
      rule="README (divergence from Nova's 404): a path more than 16 segments "
      "deep after normalisation gets 400; keep-alive"),
    C("below_password", "traversal", get(PW + b"/x", IDENT), [404],
      after="open",
      rule="nova-compat §3: anything below password is 404"),
    C("password_before_grizzly", "traversal",
      get(b"/openstack/2012-08-10/password", IDENT), [404], after="open",
      rule="nova-compat §3: password exists from 2013-04-04 on; 2012-08-10 "
      "has none: 404"),
    C("ec2_tree", "traversal", get(b"/latest/meta-data/", IDENT), [404],
      after="open",
      rule="README (divergence): EC2 paths are not served, 404 after "
      "identification; nova-compat §3 puts /latest/... in the EC2 tree"),
    C("query_ignored", "traversal",
      get(PW + b"?../../x=%00", IDENT), [200], after="open",
      rule="nova-compat §3: the query string is ignored"),
    C("case_sensitive", "traversal",
      get(b"/OpenStack/latest/password", IDENT), [404], after="open",
      rule="nova-compat §3: matching is case-sensitive: 404"),
    C("double_encoding_not_decoded_twice", "traversal",
      get(b"/openstack/latest/%252e%252e/password", IDENT), [404],
      after="open",
      rule="nova-compat §3: PATH_INFO is decoded once: %252e%252e is the "
      "segment '%2e%2e', unknown: 404"),
    C("pct_climb_to_root", "traversal",
      get(PW + b"%2f..%2f..%2f..%2f", IDENT), [200], after="open",
      bodies=[EC2_ROOT],
      rule="nova-compat §3: a path whose normpath is '/' answers the version "
      "list (handler.py, like /foo/../)"),

    # --------------------------------------------------------- header names
    C("name_space_before_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", [400],
      rule="RFC 9112 §5.1: whitespace between a field name and the colon MUST "
      "be refused with 400"),
    C("name_inner_space", "header-name",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400],
      rule="RFC 9110 §5.1: a field name is a token; a byte that is not a "
      "tchar makes the field line invalid: 400 and close (README)"),
    C("name_identity_space_before_colon", "header-name",
      b"GET " + PW + b" HTTP/1.1\r\n" + H +
      b"X-Instance-ID : {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
      b"X-Instance-ID-Signature: {{SIG}}\r\n\r\n", [400],
      rule="RFC 9112 §5.1: whitespace between a field name and the colon MUST "
      "be refused with 400"),
    C("name_empty", "header-name", b"GET / HTTP/1.1\r\n: x\r\n\r\n",
      [400],
      rule="RFC 9110 §5.1: a field name is a token of at least one tchar: 400 "
      "and close"),
    C("name_no_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost x\r\n\r\n", [400],
      rule="RFC 9112 §5: a field line is name ':' value; without the colon it "
      "is invalid: 400 and close"),
    C("name_tab_before_colon", "header-name",
      b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", [400],
      rule="RFC 9112 §5.1: whitespace between a field name and the colon MUST "
      "be refused with 400"),
    C("name_high_byte", "header-name",
      b"GET / HTTP/1.1\r\nX-\xe9: y\r\n\r\n", [400],
      rule="RFC 9110 §5.1: a field name is a token; a byte that is not a "
      "tchar makes the field line invalid: 400 and close (README)"),
    C("value_del", "header-name",
      b"GET / HTTP/1.1\r\nX-A: b\x7f\r\n\r\n", [400],
      rule="RFC 9110 §5.5: a control character in a field value is invalid; "
      "README: refused with 400 and a close"),
    C("value_obs_text_ok", "header-name",
      b"GET / HTTP/1.1\r\nX-A: caf\xe9\r\n\r\n", [200], after="open",
      rule="RFC 9110 §5.5: obs-text (bytes 0x80-0xff) is allowed in a field "
      "value"),

    # ------------------------------------------------------ identity headers
    C("ident_duplicate_instance", "identity",
      get(PW, IDENT + b"X-Instance-ID: {{IID_SET}}\r\n"), [400],
      after="open",
      rule="README (divergence from Nova, which joins the two values and "
      "answers 403, nova-compat §4.1): a repeated identity header is refused, "
      "400; RFC 9110 §5.3: these fields are not lists"),
    C("ident_duplicate_signature", "identity",
      get(PW, IDENT + b"X-Instance-ID-Signature: {{SIG_SET}}\r\n"), [400],
      after="open",
      rule="README (divergence from Nova, which joins the two values and "
      "answers 403, nova-compat §4.1): a repeated identity header is refused, "
      "400; RFC 9110 §5.3: these fields are not lists"),
    C("ident_duplicate_tenant", "identity",
      get(PW, IDENT + b"X-Tenant-ID: {{TENANT_SET}}\r\n"), [400],
      after="open",
      rule="README (divergence from Nova, which joins the two values and "
      "answers 404, nova-compat §4.1): a repeated identity header is refused, "
      "400; RFC 9110 §5.3: these fields are not lists"),
    C("ident_signature_uppercase", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: {{SIG_UPPER}}\r\n"), [403],
      after="open",
      rule="nova-compat §4.1 step 5: the signature must equal the lowercase "
      "hex HMAC of this instance id: 403"),
    C("ident_signature_of_other", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: {{SIG_SET}}\r\n"), [403],
      after="open",
      rule="nova-compat §4.1 step 5: the signature must equal the lowercase "
      "hex HMAC of this instance id: 403"),
    C("ident_wrong_tenant", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: nope\r\n"
          b"X-Instance-ID-Signature: {{SIG}}\r\n"), [404], after="open",
      rule="nova-compat §4.1 step 6: X-Tenant-ID that is not the instance's "
      "project gives 404"),
    C("ident_missing_tenant", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\n"
          b"X-Instance-ID-Signature: {{SIG}}\r\n"), [400], after="open",
      rule="nova-compat §4.1 step 3: no X-Tenant-ID gives 400"),
    C("ident_nonascii_signature", "identity",
      get(PW, b"X-Instance-ID: {{IID}}\r\nX-Tenant-ID: {{TENANT}}\r\n"
          b"X-Instance-ID-Signature: \xc3\xa9{{SIG}}\r\n"), [403],
      after="open",
      rule="nova-compat §10.3 (divergence allowed) and README: a non-ASCII "
      "signature gets 403, not Nova's 500"),
    C("ident_long_instance_id", "identity",
      get(PW, b"X-Instance-ID: " + b"a" * 300 + b"\r\n"
          b"X-Tenant-ID: {{TENANT}}\r\nX-Instance-ID-Signature: {{SIG}}"
          b"\r\n"), [403], after="open",
      rule="nova-compat §4.1 step 5: the signature is checked first, and it "
      "is not the HMAC of this id: 403"),
    C("ident_xff_allowed_in_proxy_mode", "identity",
      get(PW, IDENT + b"X-Forwarded-For: 10.9.8.7\r\n"), [200],
      after="open", bodies=[b""],
      rule="nova-compat §4.1: X-Forwarded-For is passed along, neither "
      "required nor refused, with the proxy headers"),

    # ------------------------------------------------------------ pipelines
    C("pipe_three_valid", "pipeline",
      ROOT + get(PW, IDENT) + get(PW, IDENT_SET), [200, 200, 200],
      after="open", bodies=[EC2_ROOT, b"", b"{{VALUE_SET}}"],
      rule="RFC 9112 §9.3.2: pipelined requests are answered in order on a "
      "persistent connection"),
    C("pipe_then_clte", "pipeline",
      ROOT + b"POST / HTTP/1.1\r\n" + H + cl(4) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + ROOT, [200, 400],
      rule="RFC 9112 §9.3.2 answers in order; then RFC 9112 §6.1: TE with "
      "CL, 400 and the connection MUST close"),
    C("pipe_then_bare_lf", "pipeline",
      get(PW, IDENT) + b"GET / HTTP/1.1\n\n" + ROOT, [200, 400],
      rule="RFC 9112 §9.3.2 answers in order; then the malformed request gets "
      "400 and a close (RFC 9112 §2.2, §5.2; README)"),
    C("pipe_then_nul", "pipeline",
      ROOT + b"GET /\x00 HTTP/1.1\r\n\r\n" + ROOT, [200, 400],
      rule="RFC 9112 §9.3.2 answers in order; then NUL in the target is an "
      "invalid request-line (RFC 9112 §3.2): 400 and close"),
    C("pipe_then_fold", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n" + ROOT, [200, 400],
      rule="RFC 9112 §9.3.2 answers in order; then the malformed request gets "
      "400 and a close (RFC 9112 §2.2, §5.2; README)"),
    C("pipe_then_h2_preface", "pipeline",
      ROOT + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [200, 505],
      rule="RFC 9110 §15.6.6: a major version the server does not support "
      "gets 505; README: HTTP/1.1 and 1.0 only; then close"),
    C("pipe_then_414", "pipeline",
      ROOT + target_of_len(8193) + b"\r\n\r\n" + ROOT, [200, 414],
      rule="RFC 9112 §9.3.2 answers in order; then 414 (RFC 9112 §3, "
      "README 8 KiB) and close"),
    C("pipe_then_431", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\n" + nfields(65) + b"\r\n" + ROOT,
      [200, 431],
      rule="RFC 9112 §9.3.2 answers in order; then 431 (RFC 6585 §5, README "
      "64 fields) and close"),
    C("pipe_connection_close_middle", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n" +
      ROOT, [200, 200],
      rule="RFC 9112 §9.6: after a request with Connection: close the server "
      "MUST NOT process further requests on the connection"),
    C("pipe_empty_post_then_dup_cl", "pipeline",
      post_pw(IDENT, cl(0)) + post_pw(IDENT, cl(3) + cl(3), b"abc") + ROOT,
      [200, 400],
      rule="nova-compat §2: the empty POST is 200; then a duplicate "
      "Content-Length (README) is invalid framing, RFC 9112 §6.3: 400 and "
      "close"),
    C("pipe_409_then_get", "pipeline",
      post_pw(IDENT_SET, cl(3), b"abc") + get(PW, IDENT_SET), [409, 200],
      after="open", bodies=[None, b"{{VALUE_SET}}"],
      rule="nova-compat §2: 409 for the set password, then the GET returns "
      "it; RFC 9112 §9.3.2 in order"),
    C("pipe_body_swallows_request", "pipeline",
      post_pw(IDENT_SET, cl(len(ROOT)), ROOT) + get(PW, IDENT), [409, 200],
      after="open", bodies=[None, b""],
      rule="RFC 9112 §6.3: the counted body is body, even when it looks like "
      "a request; 409 (nova-compat §2), then the real GET"),
    C("pipe_400_keepalive_then_valid", "pipeline",
      get(PW) + ROOT, [400, 200], after="open",
      rule="nova-compat §4.1 step 1: no X-Instance-ID gives 400; the framing "
      "is fine, so the connection persists (RFC 9112 §9.3)"),
    C("pipe_http10_then_more", "pipeline",
      get(b"/", version=b"HTTP/1.0") + ROOT, [200],
      rule="RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the "
      "connection after its answer; nothing after it is read"),
    C("pipe_twenty", "pipeline", ROOT * 20, [200] * 20, after="open",
      rule="RFC 9112 §9.3.2: pipelined requests are answered in order on a "
      "persistent connection"),
    C("pipe_expect_417_then", "pipeline",
      b"POST / HTTP/1.1\r\n" + H + b"Expect: something\r\n" + cl(0) +
      b"\r\n" + ROOT, [417],
      rule="RFC 9110 §10.1.1: an expectation other than 100-continue may get "
      "417; README: and the connection closes, as the client may be holding a "
      "body"),
    C("pipe_411_then", "pipeline",
      post_pw(IDENT, b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n") +
      ROOT, [411],
      rule="RFC 9110 §15.5.12 and nova-compat §10.3: 411; README: the "
      "chunked body is never read, so the connection closes"),
    C("pipe_invalid_then_post", "pipeline",
      ROOT + b"GET / HTTP/1.1\r\nX-A: b\n\r\n" +
      post_pw(IDENT, cl(5), b"hello"), [200, 400],
      rule="RFC 9112 §2.2 and README: the bare LF ends the connection with "
      "400, so the POST behind it is never executed and the store does not "
      "change"),
    C("pipe_tecl_hides_post", "pipeline",
      b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n" +
      cl(5) + b"\r\n0\r\n\r\n" + post_pw(IDENT, cl(5), b"hello"),
      [400],
      rule="RFC 9112 §6.1: TE with CL, 400 and the connection MUST close: the "
      "POST behind it is never executed"),
    C("pipe_oversize_then_smuggle", "pipeline",
      post_pw(IDENT, cl(1100), SMUGGLED_PLAIN), [400],
      rule="nova-compat §2: Content-Length over 1020 gets 400; README: the "
      "body is unread, so the connection closes and it is never parsed as a "
      "request"),

    # --------------------------------------------------- Expect: 100-continue
    C("expect_100_then_409", "expect",
      [post_pw(IDENT_SET, cl(5) + b"Expect: 100-continue\r\n"), b"hello"],
      [409], interim=[100], after="open",
      rule="RFC 9110 §10.1.1: 100-continue (case-insensitive) gets 100 when "
      "the answer is not known from the head alone, here the store's 409 "
      "(nova-compat §2); README"),
    C("expect_100_then_invalid_utf8", "expect",
      [post_pw(IDENT, cl(2) + b"Expect: 100-continue\r\n"), b"\xff\xfe"],
      [400], interim=[100], after="open",
      rule="RFC 9110 §10.1.1: 100, then the body decides: not UTF-8, 400 "
      "(nova-compat §10.3)"),
    C("expect_100_mixed_case", "expect",
      [post_pw(IDENT_SET, cl(5) + b"Expect: 100-Continue\r\n"), b"hello"],
      [409], interim=[100], after="open",
      rule="RFC 9110 §10.1.1: 100-continue (case-insensitive) gets 100 when "
      "the answer is not known from the head alone, here the store's 409 "
      "(nova-compat §2); README"),
    C("expect_100_root", "expect",
      [b"POST / HTTP/1.1\r\n" + H + cl(5) + b"Expect: 100-continue\r\n\r\n",
       b"hello"], [200], interim=[100], after="open",
      rule="RFC 9110 §10.1.1: 100, then the body is read and dropped; '/' "
      "answers the listing (nova-compat §3)"),
    C("expect_100_oversize_no_continue", "expect",
      post_pw(IDENT, cl(2000) + b"Expect: 100-continue\r\n"), [400],
      no_interim=True,
      rule="RFC 9110 §10.1.1: when the head already decides the answer (over "
      "1020 bytes, nova-compat §2), send it instead of 100; then close"),
    C("expect_100_zero_length", "expect",
      post_pw(IDENT, cl(0) + b"Expect: 100-continue\r\n"), [200],
      no_interim=True, after="open",
      rule="RFC 9110 §10.1.1: a request without content has nothing to "
      "continue; the final answer comes at once"),
    C("expect_100_http10_ignored", "expect",
      b"POST " + PW + b" HTTP/1.0\r\n" + H + IDENT_SET + cl(5) +
      b"Expect: 100-continue\r\n\r\nhello", [409], no_interim=True,
      rule="RFC 9110 §10.1.1: a 100-continue in an HTTP/1.0 request MUST be "
      "ignored; 409 (nova-compat §2), then close (RFC 9112 §9.3)"),
    C("expect_other", "expect",
      b"GET / HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\n\r\n", [417],
      rule="RFC 9110 §10.1.1: an expectation other than 100-continue may get "
      "417; README: and the connection closes, as the client may be holding a "
      "body"),

    # ------------------------------------------------------ one-byte writes
    C("split_get_password", "split", get(PW, IDENT_SET), [200],
      split=True, after="open", bodies=[b"{{VALUE_SET}}"],
      rule="RFC 9112 §2.1: a message is the same however its bytes are split; "
      "the set password is returned (nova-compat §2)"),
    C("split_post_409", "split", post_pw(IDENT_SET, cl(3), b"abc"), [409],
      split=True, after="open",
      rule="RFC 9112 §2.1: the same message byte by byte; 409 (nova-compat "
      "§2)"),
    C("split_clte", "split",
      b"POST / HTTP/1.1\r\n" + H + cl(4) +
      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [400], split=True,
      rule="RFC 9112 §2.1 and §6.1: byte by byte, TE with CL is still 400 "
      "and close"),
    C("split_pipeline", "split", ROOT + get(PW, IDENT), [200, 200],
      split=True, after="open",
      rule="RFC 9112 §9.3.2: pipelined requests are answered in order on a "
      "persistent connection"),
    C("split_bare_lf", "split", b"GET / HTTP/1.1\r\nHost: x\n\r\n", [400],
      split=True,
      rule="RFC 9112 §2.2 lets a recipient accept a bare LF as a line end "
      "(MAY); README: sealmd refuses a bare LF, 400 and close"),

    # ----------------------------------------------------- EOF and timeouts
    C("eof_partial_head", "eof", b"GET / HTTP/1.1\r\n" + H, [], eof=True,
      rule="RFC 9112 §8: an incomplete request cut by the client is not "
      "answered; the server closes"),
    C("eof_after_request", "eof", ROOT, [200], eof=True,
      rule="RFC 9112 §9.6: a half-close after a complete request still gets "
      "its answer, then the connection closes"),
    C("eof_after_identified_request", "eof", get(PW, IDENT_SET), [200],
      eof=True, bodies=[b"{{VALUE_SET}}"],
      rule="RFC 9112 §9.6: a half-close after a complete request still gets "
      "its answer, even one that waits for the store (nova-compat §2 GET)"),
    C("eof_partial_body", "eof", post_pw(IDENT, cl(10), b"abc"), [],
      eof=True,
      rule="RFC 9112 §8: the body is incomplete: no answer, nothing stored"),
    C("timeout_partial_head", "timeout", b"GET / HTTP/1.1\r\n" + H, [408],
      wait=5.0,
      rule="RFC 9110 §15.5.9: no complete head within the header timeout: "
      "408; README: every phase has a timeout"),

    # ------------------------------------------------------------- methods
    C("method_unknown_root", "method", b"BREW / HTTP/1.1\r\n" + H + b"\r\n",
      [200], after="open",
      rule="nova-compat §3: '/' answers the version list for any method (RFC "
      "9110 §9.1: methods are case-sensitive, so 'get' is just another "
      "method)"),
    C("method_lowercase_root", "method",
      b"get / HTTP/1.1\r\n" + H + b"\r\n", [200], after="open",
      rule="nova-compat §3: '/' answers the version list for any method (RFC "
      "9110 §9.1: methods are case-sensitive, so 'get' is just another "
      "method)"),
    C("method_bad_token", "method",
      b"GE(T / HTTP/1.1\r\n" + H + b"\r\n", [400],
      rule="RFC 9110 §9.1 / RFC 9112 §3: a method is a token; '(' is no "
      "tchar: invalid request-line, 400 and close"),
    C("method_unknown_listing", "method",
      b"BREW /openstack/latest HTTP/1.1\r\n" + H + IDENT + b"\r\n", [200],
      after="open",
      rule="nova-compat §3: paths other than password ignore the method"),
]
