/* vmlock tests: a fake QMP peer (QEMU's monitor, or a QMP server) in a
 * thread, following a script, as libvirt's qemumonitortestutils does.
 *
 * Steps: "> NAME" reads a command and checks it is NAME; "< TEXT" sends TEXT
 * as it is, with "$N" replaced by the id of the N-th command read (from 0).
 * The peer hangs up after the last step. A command other than the one the
 * script expects fails the test: nothing reaches QEMU unseen.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How long the peer waits for each command. */
#define FAKE_QMP_PEER_WAIT_MS 10000

typedef struct {
        int listen_fd; /* accept the connection from it, or -1 */
        int fd;        /* else this is the peer's end */
        const char *const *script;
        GPtrArray *received; /* JsonObject *: the commands read */
        GThread *thread;
        char *dir;
        char *path;
} FakePeer;

/* A peer on a socket pair: returns our end. */
int fake_peer_start_pair(FakePeer *fake, const char *const *script);
/* A peer listening on a unix socket: fake->path. */
void fake_peer_start_listening(FakePeer *fake, const char *const *script);
/* Waits for the peer to finish its script. */
void fake_peer_join(FakePeer *fake);
void fake_peer_clear(FakePeer *fake);

G_END_DECLS
