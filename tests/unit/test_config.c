/* SPDX-License-Identifier: ISC */
/*
 * broker/config.c: every key of the contract, the defaults, and that each
 * kind of mistake is refused with an error naming FILE:LINE.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "broker/config.h"
#include "tests/unit/tutil.h"

TestSuite(config, .init = tutil_conf_setup, .fini = tutil_conf_teardown);

static void
write_conf(const char *text)
{
	tutil_conf_write(text, strlen(text));
}

static void
load_ok(const char *text, struct config *c)
{
	char	err[CONF_ERR_MAX];

	write_conf(text);
	cr_assert_eq(config_load(tutil_conf_path, c, err, sizeof(err)), 0,
	    "refused: %s", err);
}

/* The file must be refused with "PATH:LINE: ...what..." (line 0: "PATH: "). */
static void
expect_err_file(int line, const char *what)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	cr_assert_eq(config_load(tutil_conf_path, &c, err, sizeof(err)), -1,
	    "accepted a bad file");
	tutil_conf_err(err, line, what);
	/* A failed load leaves nothing allocated behind. */
	cr_expect_null(c.c_instances);
	cr_expect_eq(c.c_ninstances, 0);
	config_free(&c);
}

static void
expect_err(const char *text, int line, const char *what)
{
	write_conf(text);
	expect_err_file(line, what);
}

#define SECRET	"proxy_secret_file = /etc/sealmd/secret\n"

Test(config, full)
{
	struct config		 c;
	struct msg_instance	*in;

	load_ok(
	    "# every key\n"
	    "[sealmd]\n"
	    "state_dir = /srv/sealmd\n"
	    "key_dir = /etc/sealmd/keys\n"
	    "worker_user = _sealmd\n"
	    "chroot = /var/empty\n"
	    "worker_path = /opt/sealmd/sealmd-worker\n"
	    "\n"
	    "[limits]\n"
	    "max_conns = 65000\n"
	    "header_timeout_ms = 100\n"
	    "body_timeout_ms = 3600000\n"
	    "idle_timeout_ms = 4242\n"
	    "\n"
	    "[guest]\n"
	    "listen = 127.0.0.1:8775\n"
	    "listen = [::1]:0\n"
	    "proxy_secret_file = /etc/sealmd/secret\n"
	    "\n"
	    "[guest direct]\n"
	    "listen = [FE80:0:0::A9FE:A9FE%eth1]:80\n"
	    "identity = direct\n"
	    "proxy_secret_file = /etc/sealmd/secret\n"
	    "\n"
	    "[guest late]\n"
	    "listen = 0.0.0.0:08080\n"
	    "identity = proxy\n"
	    "\n"
	    "[owner]\n"
	    "socket = /run/s/owner.sock\n"
	    "allow_uid = 0\n"
	    "allow_uid = 4294967294\n"
	    "allow_group = nova\n"
	    "allow_group = os.ops_2\n"
	    "\n"
	    "[store]\n"
	    "backend = sqlite\n"
	    "path = /srv/db/s.db\n"
	    "\n"
	    "[instance 6F0C1B2E-4A3D-4E5F-9A8B-7C6D5E4F3A2B]\n"
	    "project = 3d8a9f0e_b1c-4d5e\n"
	    "address = 10.0.0.5\n"
	    "address = FD00:0:0::5\n"
	    "address = ::ffff:10.0.0.9\n"
	    "address = FE80::5%eth1\n"
	    "address = 10.0.0.5@direct\n"
	    "hostname = web-1.example.org\n"
	    "public_key = ssh-ed25519 AAAAC3Nza+/= ops@example.org\n"
	    "public_key = sk-ssh-ed25519@openssh.com AAAAB3==\n"
	    "\n"
	    "  [instance 00000000-0000-0000-0000-000000000001]  \n"
	    "project = p2\n", &c);

	cr_expect_str_eq(c.c_path, tutil_conf_path);
	cr_expect_str_eq(c.c_state_dir, "/srv/sealmd");
	cr_expect_str_eq(c.c_key_dir, "/etc/sealmd/keys");
	cr_expect_str_eq(c.c_worker_user, "_sealmd");
	cr_expect_str_eq(c.c_chroot, "/var/empty");
	cr_expect_str_eq(c.c_worker_path, "/opt/sealmd/sealmd-worker");

	cr_expect_eq(c.c_max_conns, 65000);
	cr_expect_eq(c.c_header_timeout_ms, 100);
	cr_expect_eq(c.c_body_timeout_ms, 3600000);
	cr_expect_eq(c.c_idle_timeout_ms, 4242);

	cr_assert_eq(c.c_nlisten, 4);
	cr_expect_str_eq(c.c_listen[0].cl_host, "127.0.0.1");
	cr_expect_str_eq(c.c_listen[0].cl_port, "8775");
	cr_expect_eq(c.c_listen[0].cl_ident, IDENT_PROXY);
	cr_expect_str_eq(c.c_listen[0].cl_section, "guest");
	cr_expect_str_eq(c.c_listen[1].cl_host, "::1");
	cr_expect_str_eq(c.c_listen[1].cl_port, "0");
	cr_expect_eq(c.c_listen[1].cl_ident, IDENT_PROXY);
	cr_expect_str_eq(c.c_listen[1].cl_section, "guest");
	/* identity given after the listen line still applies to it */
	cr_expect_str_eq(c.c_listen[2].cl_host, "fe80::a9fe:a9fe%eth1");
	cr_expect_str_eq(c.c_listen[2].cl_port, "80");
	cr_expect_eq(c.c_listen[2].cl_ident, IDENT_DIRECT);
	cr_expect_str_eq(c.c_listen[2].cl_section, "guest direct");
	cr_expect_str_eq(c.c_listen[3].cl_host, "0.0.0.0");
	cr_expect_str_eq(c.c_listen[3].cl_port, "8080");
	cr_expect_eq(c.c_listen[3].cl_ident, IDENT_PROXY);
	cr_expect_str_eq(c.c_listen[3].cl_section, "guest late");
	cr_expect_str_eq(c.c_proxy_secret_file, "/etc/sealmd/secret");

	cr_expect_str_eq(c.c_owner_socket, "/run/s/owner.sock");
	cr_assert_eq(c.c_nallow_uid, 2);
	cr_expect_eq(c.c_allow_uid[0], 0);
	cr_expect_eq(c.c_allow_uid[1], 4294967294u);
	cr_assert_eq(c.c_nallow_group, 2);
	cr_expect_str_eq(c.c_allow_group[0], "nova");
	cr_expect_str_eq(c.c_allow_group[1], "os.ops_2");

	cr_expect_eq(c.c_store_engine, STORE_SQLITE);
	cr_expect_str_eq(c.c_store_path, "/srv/db/s.db");

	cr_assert_eq(c.c_ninstances, 2);
	in = &c.c_instances[0];
	cr_expect_str_eq(in->mn_id, "6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b");
	cr_expect_str_eq(in->mn_project, "3d8a9f0e_b1c-4d5e");
	cr_assert_eq(in->mn_naddr, 5);
	cr_expect_str_eq(in->mn_addr[0], "10.0.0.5");
	cr_expect_str_eq(in->mn_addr[1], "fd00::5");
	cr_expect_str_eq(in->mn_addr[2], "10.0.0.9");
	cr_expect_str_eq(in->mn_addr[3], "fe80::5%eth1");
	cr_expect_str_eq(in->mn_addr[4], "10.0.0.5@direct");
	cr_expect_str_eq(in->mn_hostname, "web-1.example.org");
	cr_assert_eq(in->mn_nkeys, 2);
	cr_expect_str_eq(in->mn_keys[0].mk_name, "default");
	cr_expect_str_eq(in->mn_keys[0].mk_data,
	    "ssh-ed25519 AAAAC3Nza+/= ops@example.org");
	cr_expect_str_eq(in->mn_keys[1].mk_name, "key-1");
	cr_expect_str_eq(in->mn_keys[1].mk_data,
	    "sk-ssh-ed25519@openssh.com AAAAB3==");
	cr_expect_eq(in->mn_created, 0);
	in = &c.c_instances[1];
	cr_expect_str_eq(in->mn_id, "00000000-0000-0000-0000-000000000001");
	cr_expect_str_eq(in->mn_project, "p2");
	cr_expect_eq(in->mn_naddr, 0);
	cr_expect_str_eq(in->mn_hostname, "");
	cr_expect_eq(in->mn_nkeys, 0);

	config_free(&c);
	cr_expect_null(c.c_instances);
	cr_expect_eq(c.c_ninstances, 0);
	config_free(&c);
}

Test(config, defaults_empty_file)
{
	struct config	c;

	load_ok("", &c);
	cr_expect_str_eq(c.c_state_dir, CONF_DEFAULT_STATE_DIR);
	cr_expect_str_eq(c.c_key_dir, CONF_DEFAULT_STATE_DIR "/keys");
	cr_expect_str_eq(c.c_worker_user, CONF_DEFAULT_WORKER);
	cr_expect_str_eq(c.c_chroot, CONF_DEFAULT_CHROOT);
	cr_expect_str_eq(c.c_worker_path, "");
	cr_expect_eq(c.c_nlisten, 0);
	cr_expect_str_eq(c.c_proxy_secret_file, "");
	cr_expect_str_eq(c.c_owner_socket, CONF_DEFAULT_SOCKET);
	cr_expect_eq(c.c_nallow_uid, 0);
	cr_expect_eq(c.c_nallow_group, 0);
	cr_expect_eq(c.c_store_engine, STORE_SQLITE);
	cr_expect_str_eq(c.c_store_path, CONF_DEFAULT_STATE_DIR "/sealmd.db");
	cr_expect_eq(c.c_max_conns, 1024);
	cr_expect_eq(c.c_header_timeout_ms, 10000);
	cr_expect_eq(c.c_body_timeout_ms, 10000);
	cr_expect_eq(c.c_idle_timeout_ms, 30000);
	cr_expect_eq(c.c_ninstances, 0);
	cr_expect_null(c.c_instances);
	config_free(&c);
}

Test(config, defaults_follow_state_dir)
{
	struct config	c;

	load_ok("; comment\n[sealmd]\nstate_dir = /srv/x\n"
	    "[guest]\nlisten = 127.0.0.1:1\n" SECRET, &c);
	cr_expect_str_eq(c.c_key_dir, "/srv/x/keys");
	cr_expect_str_eq(c.c_store_path, "/srv/x/sealmd.db");
	cr_expect_str_eq(c.c_owner_socket, CONF_DEFAULT_SOCKET);
	cr_assert_eq(c.c_nlisten, 1);
	cr_expect_eq(c.c_listen[0].cl_ident, IDENT_PROXY);
	config_free(&c);
}

Test(config, example_file_loads)
{
	struct config	c;
	char		err[CONF_ERR_MAX];

	/* make runs the tests from the top of the tree. */
	cr_assert_eq(config_load("dist/sealmd.conf.example", &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.c_nlisten, 1);
	cr_expect_eq(c.c_ninstances, 1);
	config_free(&c);
}

Test(config, missing_file)
{
	expect_err_file(0, "No such file");
}

Test(config, syntax)
{
	expect_err("[sealmd]\nstate_dir /x\n", 2, "name = value");
	expect_err("state_dir = /x\n", 1, "outside any section");
	expect_err("[sealmd\n", 1, "without ']'");
	expect_err("[sealmd] x\nstate_dir = /x\n", 1, "after the section");
	expect_err("[sealmd]\nstate_dir = /a\nstate_dir = /a\n", 3,
	    "given twice");
	expect_err("[sealmd]\n[limits]\n[sealmd]\n", 3, "first at line 1");
	expect_err("[guest a]\n[guest a]\n", 2, "given twice");
	/* A value does not continue on an indented line. */
	expect_err("[sealmd]\nstate_dir = /a\n  /b\n", 3, "name = value");
	/* ';' is part of a value, never a comment after it. */
	expect_err("[sealmd]\nstate_dir = /a ; c\n[guest]\n"
	    "listen = 127.0.0.1:1 ; c\n" SECRET, 4, "listen");
}

Test(config, nul_byte)
{
	tutil_conf_write("[sealmd]\nstate_dir = /a\0b\n", 26);
	expect_err_file(2, "NUL");
}

Test(config, long_lines)
{
	struct config	c;
	char		text[8192], key[KEYDATA_MAX + 1];

	/* An RSA-4096 key is about 720 bytes; KEYDATA_MAX fits in a line. */
	memset(key, 'A', sizeof(key));
	memcpy(key, "ssh-rsa ", 8);
	key[KEYDATA_MAX] = '\0';
	(void)snprintf(text, sizeof(text), "[instance "
	    "00000000-0000-0000-0000-000000000001]\nproject = p\n"
	    "public_key = %s\n", key);
	load_ok(text, &c);
	cr_assert_eq(c.c_ninstances, 1);
	cr_assert_eq(c.c_instances[0].mn_nkeys, 1);
	cr_expect_str_eq(c.c_instances[0].mn_keys[0].mk_data, key);
	config_free(&c);

	(void)snprintf(text, sizeof(text), "[instance "
	    "00000000-0000-0000-0000-000000000001]\nproject = p\n"
	    "public_key = %sA\n", key);
	expect_err(text, 3, "public_key: longer than");

	memset(text, ' ', sizeof(text));
	memcpy(text, "[sealmd]\n#", 10);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	expect_err(text, 2, "line longer");
}

Test(config, unknown_section)
{
	/* Reported on its header even when it holds no key. */
	expect_err("[sealmd]\n\n[bogus]\n", 3, "unknown section [bogus]");
	expect_err("[ sealmd ]\n", 1, "unknown section");
	expect_err("[guest]\n[guest bad/name]\n", 2, "unknown section");
	expect_err("[sealmd]\n[instance]\nproject = p\n", 2,
	    "unknown section");
}

Test(config, unknown_key)
{
	expect_err("[sealmd]\nstate_dir = /x\nstatedir = /x\n", 3,
	    "unknown key statedir in [sealmd]");
	/* A key is known only in its own section. */
	expect_err("[limits]\nstate_dir = /x\n", 2, "unknown key");
	expect_err("[owner]\n\x1b[31m = 1\n", 2, "unknown key ?[31m");
}

Test(config, bad_port)
{
	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:65536\n", 3,
	    "port");
	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:\n", 3, "port");
	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:+80\n", 3, "port");
	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:0x50\n", 3, "port");
	expect_err("[guest]\n" SECRET "listen = [::1]:http\n", 3, "port");
	expect_err("[guest]\n" SECRET "listen = 127.0.0.1\n", 3, "listen");
}

Test(config, listen_host_must_be_literal)
{
	expect_err("[guest]\n" SECRET "listen = localhost:8775\n", 3,
	    "not a literal IP address");
	expect_err("[guest]\n" SECRET "listen = ::1:8775\n", 3, "listen");
	expect_err("[guest]\n" SECRET "listen = [127.0.0.1]:8775\n", 3,
	    "not a literal IP address");
	expect_err("[guest]\n" SECRET "listen = [::1:8775\n", 3, "listen");
	expect_err("[guest]\n" SECRET "listen = 1.2.3:8775\n", 3,
	    "not a literal IP address");
}

/* The kernel binds a link-local address only with its interface. */
Test(config, listen_link_local_needs_interface)
{
	expect_err("[guest]\n" SECRET "listen = [fe80::1]:80\n", 3,
	    "needs its interface");
	expect_err("[guest]\n" SECRET "listen = [::1%lo]:80\n", 3,
	    "only a link-local");
	expect_err("[guest]\n" SECRET "listen = [fe80::1%e/0]:80\n", 3,
	    "only a link-local");
	expect_err("[guest]\n" SECRET "listen = 10.0.0.1%eth0:80\n", 3,
	    "not a literal IP address");
}

/* interface = NAME: every listener of its section, and no other. */
Test(config, listen_interface)
{
	struct config	c;

	load_ok("[guest a]\nidentity = direct\nlisten = 10.9.0.1:80\n"
	    "interface = v0p\nlisten = 10.9.1.1:80\n"
	    "[guest b]\nidentity = direct\nlisten = 10.9.0.1:80\n", &c);
	cr_assert_eq(c.c_nlisten, 3);
	cr_expect_str_eq(c.c_listen[0].cl_device, "v0p");
	cr_expect_str_eq(c.c_listen[1].cl_device, "v0p");
	cr_expect_str_eq(c.c_listen[2].cl_device, "");
	config_free(&c);
	expect_err("[guest]\ninterface = eth/0\n", 2, "not an interface");
	expect_err("[guest]\ninterface = abcdefghijklmnop\n", 2,
	    "not an interface");
	expect_err("[guest]\ninterface = a\ninterface = b\n", 3, "twice");
}

/* IP%IFNAME and IP@NET in seeds: NET must be a direct section. */
Test(config, seed_address_scope_and_network)
{
#define INST	"[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\nproject = p\n"
#define DIRECT	"[guest prov]\nidentity = direct\nlisten = 127.0.0.1:1\n"
	struct config	c;

	expect_err(INST "address = fe80::5\n", 3, "needs its interface");
	expect_err(INST "address = 10.0.0.5%eth0\n", 3, "only a link-local");
	expect_err(INST "address = 10.0.0.5@\n", 3, "network after @");
	expect_err(INST "address = 10.0.0.5@prov\naddress = 10.0.0.5@prov\n",
	    4, "given twice");
	expect_err(INST "address = 10.0.0.5@prov\n", 0,
	    "no [guest prov] section of identity direct");
	expect_err(INST "address = 10.0.0.5@prov\n[guest prov]\n" SECRET
	    "listen = 127.0.0.1:1\n", 0, "identity direct");
	/* A section without a listener is no network either. */
	expect_err(INST "address = 10.0.0.5@prov\n"
	    "[guest prov]\nidentity = direct\n", 0, "identity direct");
	/* The section may come after the instance. */
	load_ok(INST "address = ::ffff:10.0.0.5@prov\n"
	    "address = 10.0.0.5\n" DIRECT, &c);
	cr_assert_eq(c.c_instances[0].mn_naddr, 2);
	cr_expect_str_eq(c.c_instances[0].mn_addr[0], "10.0.0.5@prov");
	config_free(&c);
#undef DIRECT
#undef INST
}

Test(config, too_many_listeners)
{
	char	text[4096];
	size_t	i, n;

	n = (size_t)snprintf(text, sizeof(text), "[guest]\n" SECRET);
	for (i = 0; i <= CONF_LISTEN_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "listen = 127.0.0.1:%zu\n", i);
	expect_err(text, 3 + CONF_LISTEN_MAX, "more than");
}

Test(config, relative_path)
{
	expect_err("[sealmd]\nstate_dir = var/lib/sealmd\n", 2,
	    "state_dir: not an absolute path");
	expect_err("[sealmd]\nchroot =\n", 2, "chroot: not an absolute");
	expect_err("[store]\npath = sealmd.db\n", 2, "path: not an absolute");
	expect_err("[guest]\nproxy_secret_file = secret\n", 2,
	    "not an absolute");
	expect_err("[owner]\nsocket = owner.sock\n", 2, "not an absolute");
}

Test(config, owner_values)
{
	char	text[256];

	expect_err("[owner]\nallow_uid = -1\n", 2, "allow_uid");
	expect_err("[owner]\nallow_uid = 4294967295\n", 2, "allow_uid");
	expect_err("[owner]\nallow_uid = root\n", 2, "allow_uid");
	expect_err("[owner]\nallow_group = a b\n", 2, "allow_group");
	expect_err("[owner]\nallow_group = -x\n", 2, "allow_group");
	expect_err("[sealmd]\nworker_user = a:b\n", 2, "worker_user");
	/* sun_path is 108 bytes. */
	(void)snprintf(text, sizeof(text), "[owner]\nsocket = /%0107d\n", 0);
	expect_err(text, 2, "socket: longer");
}

Test(config, bad_uuid)
{
	expect_err("[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2]\n"
	    "project = p\n", 1, "not a canonical UUID");
	expect_err("[sealmd]\n[instance 6f0c1b2e4a3d-4e5f-9a8b-7c6d5e4f3a2b1]\n"
	    "project = p\n", 2, "not a canonical UUID");
	expect_err("[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2g]\n"
	    "project = p\n", 1, "not a canonical UUID");
	expect_err("[instance {6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b}]\n"
	    "project = p\n", 1, "not a canonical UUID");
}

Test(config, duplicate_instance)
{
	expect_err("[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\n"
	    "project = p\n"
	    "[instance 6F0C1B2E-4A3D-4E5F-9A8B-7C6D5E4F3A2B]\n"
	    "project = p\n", 3, "given twice");
}

Test(config, missing_project)
{
	/* Named on the section's header, whether another section follows... */
	expect_err("[sealmd]\n"
	    "[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\n"
	    "address = 10.0.0.1\n"
	    "[store]\n", 2, "project is required");
	/* ...or the file ends. */
	expect_err("[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\n", 1,
	    "project is required");
}

Test(config, instance_values)
{
	char	text[1024];
	size_t	i, n;

#define INST	"[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\nproject = p\n"
	expect_err(INST "project = q\n", 3, "given twice");
	expect_err("[instance 6f0c1b2e-4a3d-4e5f-9a8b-7c6d5e4f3a2b]\n"
	    "project = a/b\n", 2, "project");
	expect_err(INST "address = example.org\n", 3, "address");
	expect_err(INST "address = 10.0.0.1\naddress = ::ffff:10.0.0.1\n", 4,
	    "address: given twice");
	expect_err(INST "hostname = a_b\n", 3, "hostname");
	expect_err(INST "public_key = AAAAB3NzaC1yc2E\n", 3, "public_key");
	expect_err(INST "public_key = ssh-rsa AAAA\tx\n", 3, "public_key");
	expect_err(INST "public_key = ssh-rsa AA*A\n", 3, "public_key");
	expect_err(INST "public_key = ssh-rsa AAAA caf\xc3\xa9\n", 3,
	    "public_key");

	n = (size_t)snprintf(text, sizeof(text), INST);
	for (i = 0; i <= INST_ADDRS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "address = 10.0.0.%zu\n", i);
	expect_err(text, 3 + INST_ADDRS_MAX, "address: more than");

	n = (size_t)snprintf(text, sizeof(text), INST);
	for (i = 0; i <= INST_KEYS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "public_key = ssh-ed25519 AAAA%zu\n", i);
	expect_err(text, 3 + INST_KEYS_MAX, "public_key: more than");
#undef INST
}

Test(config, proxy_needs_secret)
{
	/* Named on the first proxy section's header. */
	expect_err("[sealmd]\n[guest d]\nidentity = direct\n"
	    "listen = 127.0.0.1:1\n[guest]\nlisten = 127.0.0.1:2\n", 5,
	    "proxy_secret_file");
	expect_err("[guest]\nlisten = 127.0.0.1:2\nidentity = proxy\n", 1,
	    "proxy_secret_file");
	expect_err("[guest]\nidentity = sometimes\n", 2, "identity");
}

/* A previous token key is one to accept besides a current one. */
Test(config, token_keys)
{
	struct config	c;

	load_ok("[sealmd]\ntoken_key_file = /etc/sealmd/tk\n"
	    "token_key_previous_file = /etc/sealmd/tk.old\n"
	    "[guest]\n" SECRET "listen = 127.0.0.1:1\n", &c);
	cr_expect_str_eq(c.c_token_key, "/etc/sealmd/tk");
	cr_expect_str_eq(c.c_token_key_prev, "/etc/sealmd/tk.old");
	config_free(&c);
	expect_err("[sealmd]\ntoken_key_previous_file = /etc/sealmd/tk\n"
	    "[guest]\n" SECRET "listen = 127.0.0.1:1\n", 0,
	    "token_key_previous_file needs token_key_file");
	expect_err("[sealmd]\ntoken_key_file = tk\n", 2,
	    "not an absolute path");
}

/* Neutron never forwards X-Metadata-Token: required would refuse all. */
Test(config, tokens_required_needs_direct)
{
	struct config	c;

	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:1\n"
	    "session_tokens = required\n", 1, "needs identity direct");
	/* Proxy is the default identity. */
	expect_err("[guest a]\n" SECRET "session_tokens = required\n", 1,
	    "neutron");
	load_ok("[guest]\n" SECRET "listen = 127.0.0.1:1\n"
	    "session_tokens = optional\n", &c);
	cr_expect_eq(c.c_listen[0].cl_guard.cg_tokens, GUARD_TOKENS_OPTIONAL);
	config_free(&c);
	load_ok("[guest]\nidentity = direct\nlisten = 127.0.0.1:1\n"
	    "session_tokens = required\n", &c);
	cr_expect_eq(c.c_listen[0].cl_guard.cg_tokens, GUARD_TOKENS_REQUIRED);
	config_free(&c);
}

Test(config, proxy_secret_is_global)
{
	struct config	c;

	/* Given once, in a section of direct listeners, it serves all. */
	load_ok("[guest]\nlisten = 127.0.0.1:1\n"
	    "[guest d]\nidentity = direct\n" SECRET, &c);
	cr_expect_str_eq(c.c_proxy_secret_file, "/etc/sealmd/secret");
	config_free(&c);

	/* Direct listeners alone need no secret. */
	load_ok("[guest]\nidentity = direct\nlisten = 127.0.0.1:1\n", &c);
	cr_expect_eq(c.c_listen[0].cl_ident, IDENT_DIRECT);
	config_free(&c);

	expect_err("[guest]\n" SECRET "listen = 127.0.0.1:1\n[guest b]\n"
	    "proxy_secret_file = /etc/other\n", 5, "differs");
}

Test(config, backend)
{
	struct config	c;

	expect_err("[store]\nbackend = mysql\n", 2, "backend");
	expect_err("[store]\nbackend = postgresql\n", 0, "needs conninfo");
	expect_err("[store]\nconninfo = dbname=x\n", 0,
	    "conninfo is for backend postgresql");
	expect_err("[store]\nbackend = postgresql\nconninfo = host='x\n", 3,
	    "not a libpq connection string");
	expect_err("[store]\nbackend = postgresql\n"
	    "conninfo = host=db password=s3cret\n", 3, "passfile");
	expect_err("[store]\nbackend = postgresql\n"
	    "conninfo = postgresql://u:s3cret@db/sealmd\n", 3, "passfile");
	load_ok("[store]\nbackend = postgresql\nconninfo = host=db.example "
	    "dbname=sealmd sslmode=verify-full passfile=/run/pgpass\n", &c);
	cr_assert_eq(c.c_store_engine, STORE_POSTGRESQL);
	cr_assert_str_eq(config_store_target(&c), "host=db.example "
	    "dbname=sealmd sslmode=verify-full passfile=/run/pgpass");
	cr_assert_null(config_store_advice(&c));
	config_free(&c);
	/* Over TCP without verify-full: start, with advice. */
	load_ok("[store]\nbackend = postgresql\nconninfo = host=db.example "
	    "sslmode=require\n", &c);
	cr_assert_not_null(strstr(config_store_advice(&c), "verify-full"));
	config_free(&c);
	load_ok("[store]\nbackend = postgresql\nconninfo = "
	    "hostaddr=192.0.2.1\n", &c);
	cr_assert_not_null(config_store_advice(&c));
	config_free(&c);
	/* A unix socket needs no certificate. */
	load_ok("[store]\nbackend = postgresql\nconninfo = host=/run/pg\n",
	    &c);
	cr_assert_null(config_store_advice(&c));
	config_free(&c);
	load_ok("", &c);
	cr_assert_eq(c.c_store_engine, STORE_SQLITE);
	cr_assert_str_eq(config_store_target(&c), c.c_store_path);
	config_free(&c);
}

/* What a connection is worth: defaults, keys, and the idle floor. */
Test(config, conn_limits)
{
	struct config	c;

	load_ok("", &c);
	/* 10 s head + 10 s body + 2 * 30 s keep-alive, and 10 s more. */
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_idle_ms, 90000);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_idle_ms, 90000);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_life_ms, 900000);
	cr_expect_gt(c.c_conn[ROLE_OWNER].cc_life_ms, PW_WAIT_MAX * 1000);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_life_ms, 3600000);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_requests, 4096);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_requests, 10000);
	config_free(&c);
	load_ok("[limits]\nidle_timeout_ms = 1000\n", &c);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_idle_ms, 32000);
	config_free(&c);
	load_ok("[limits]\nheader_timeout_ms = 1000\n"
	    "body_timeout_ms = 1000\nidle_timeout_ms = 1000\n"
	    "owner_conn_idle_ms = 4000\nowner_conn_lifetime_ms = 5000\n"
	    "owner_conn_requests = 1\nguest_conn_idle_ms = 5000\n"
	    "guest_conn_lifetime_ms = 86400000\n"
	    "guest_conn_requests = 1000000\n", &c);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_idle_ms, 4000);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_life_ms, 5000);
	cr_expect_eq(c.c_conn[ROLE_OWNER].cc_requests, 1);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_idle_ms, 5000);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_life_ms, 86400000);
	cr_expect_eq(c.c_conn[ROLE_GUEST].cc_requests, 1000000);
	config_free(&c);
	expect_err("[limits]\nowner_conn_idle_ms = 79999\n", 1,
	    "owner_conn_idle_ms 79999 is less than header_timeout_ms + "
	    "body_timeout_ms + 2 * idle_timeout_ms (80000)");
	expect_err("\n[limits]\nguest_conn_idle_ms = 5000\n", 2,
	    "guest_conn_idle_ms 5000 is less");
	expect_err("[limits]\nowner_conn_lifetime_ms = 999\n", 2,
	    "owner_conn_lifetime_ms: not a number from 1000 to 86400000");
	expect_err("[limits]\nguest_conn_requests = 0\n", 2,
	    "guest_conn_requests");
	expect_err("[limits]\nowner_conn_requests = 1000001\n", 2,
	    "owner_conn_requests");
}

Test(config, limits_range)
{
	expect_err("[limits]\nheader_timeout_ms = 99\n", 2,
	    "header_timeout_ms: not a number from 100 to 3600000");
	expect_err("[limits]\nbody_timeout_ms = 3600001\n", 2,
	    "body_timeout_ms");
	expect_err("[limits]\n\nidle_timeout_ms = 1e3\n", 3,
	    "idle_timeout_ms");
	expect_err("[limits]\nmax_conns = 0\n", 2, "max_conns");
	expect_err("[limits]\nmax_conns = 65001\n", 2, "max_conns");
	expect_err("[limits]\nmax_conns = 18446744073709551617\n", 2,
	    "max_conns");
}

Test(config, failure_frees_instances)
{
	/* Instances were allocated before the error; expect_err checks. */
	expect_err("[instance 00000000-0000-0000-0000-000000000001]\n"
	    "project = p\n"
	    "[instance 00000000-0000-0000-0000-000000000002]\n"
	    "project = p\n"
	    "[limits]\nmax_conns = 0\n", 6, "max_conns");
}

Test(config, many_instances)
{
	struct config	 c;
	char		*text;
	size_t		 i, n, sz = 80 * (CONF_INSTANCES_MAX + 1);

	cr_assert_not_null(text = malloc(sz));
	for (i = n = 0; i < CONF_INSTANCES_MAX; i++)
		n += (size_t)snprintf(text + n, sz - n, "[instance "
		    "00000000-0000-0000-0000-%012zx]\nproject = p\n", i);
	load_ok(text, &c);
	cr_assert_eq(c.c_ninstances, CONF_INSTANCES_MAX);
	cr_expect_str_eq(c.c_instances[CONF_INSTANCES_MAX - 1].mn_id,
	    "00000000-0000-0000-0000-0000000003ff");
	config_free(&c);

	(void)snprintf(text + n, sz - n, "[instance "
	    "10000000-0000-0000-0000-000000000000]\nproject = p\n");
	expect_err(text, 2 * CONF_INSTANCES_MAX + 1, "more than");
	free(text);
}
