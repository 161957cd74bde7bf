/* vmlock: QEMU's events, typed: the supervisor switches on a kind, never on
 * an event's name. */
#pragma once

#include <json-glib/json-glib.h>

#include "qemu/qemu_migration.h"

G_BEGIN_DECLS

typedef enum {
        QEMU_EVENT_OTHER,          /* one the supervisor does not act on */
        QEMU_EVENT_STOP,           /* the CPUs stopped */
        QEMU_EVENT_RESUME,         /* the CPUs run */
        QEMU_EVENT_DEVICE_DELETED, /* QEMU let go of ->device */
        QEMU_EVENT_MIGRATION,      /* the migration is now ->migration */
} QemuEventKind;

/* Strings borrowed from the event it was parsed from. */
typedef struct {
        QemuEventKind kind;
        const char *device;           /* DEVICE_DELETED: the device id */
        MigrationStatus migration;    /* MIGRATION */
} QemuEvent;

/* An event message as a QemuEvent; one missing what its kind needs (a
 * DEVICE_DELETED of a device without an id) is OTHER. */
void qemu_event_parse(JsonObject *event, QemuEvent *ret_event);

G_END_DECLS
