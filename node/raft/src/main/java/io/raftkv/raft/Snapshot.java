package io.raftkv.raft;

/**
 * A state-machine snapshot at {@code metadata.index()}. The core treats {@code data} as opaque;
 * the transport may stream it in chunks.
 *
 * @param metadata where in the log the snapshot stands
 * @param data     serialized application state; never null
 */
public record Snapshot(SnapshotMetadata metadata, byte[] data) {
    /** The empty snapshot ("none"). */
    public static final Snapshot EMPTY = new Snapshot(SnapshotMetadata.EMPTY, new byte[0]);

    public Snapshot {
        if (data == null) {
            data = new byte[0];
        }
    }

    /** True if this is the empty snapshot. */
    public boolean isEmpty() {
        return metadata.index() == 0;
    }
}
