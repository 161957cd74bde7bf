/* vmlock tests: a fake QMP peer (QEMU's monitor, or a QMP server) in a
 * thread, following a script, as libvirt's qemumonitortestutils does.
 *
 * Steps: "> NAME" reads a command and checks it is NAME; "< TEXT" sends TEXT
 * as it is, with "$N" replaced by the id of the N-th command read (from 0);
 * "=" holds the peer (QEMU taking its time) until fake_peer_release().
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
        GMutex lock;
        GCond cond;
        gboolean held;   /* at a "=" step */
        guint releases;  /* fake_peer_release() calls not yet used */
} FakePeer;

/* A peer on a socket pair: returns our end. */
int fake_peer_start_pair(FakePeer *fake, const char *const *script);
/* A peer listening on a unix socket: fake->path. */
void fake_peer_start_listening(FakePeer *fake, const char *const *script);
/* Waits (bounded) until the peer is held at a "=" step. */
void fake_peer_wait_held(FakePeer *fake);
/* Lets the peer go on past its "=" step. */
void fake_peer_release(FakePeer *fake);
/* Waits for the peer to finish its script. */
void fake_peer_join(FakePeer *fake);
void fake_peer_clear(FakePeer *fake);

G_END_DECLS
