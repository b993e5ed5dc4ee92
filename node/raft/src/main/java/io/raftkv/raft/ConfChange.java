package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A membership change: any set of additions, removals, promotions and demotions applied in one
 * step through joint consensus (Raft §6, thesis §4.3). An empty change list is the entry that
 * leaves the joint configuration; the leader appends it by itself once the joint entry commits.
 *
 * @param changes single-node changes, applied in order
 * @param context opaque application data carried with the change (e.g. member URLs); never null
 */
public record ConfChange(List<Change> changes, byte[] context) {

    /** What happens to one node. */
    public enum Type {
        /** Add as voter, or promote a learner. */
        ADD_VOTER,
        /** Add as learner, or demote a voter (effective when the joint configuration is left). */
        ADD_LEARNER,
        /** Remove from the configuration. */
        REMOVE
    }

    /** One node's change. */
    public record Change(Type type, long nodeId) {
    }

    public ConfChange {
        changes = List.copyOf(changes);
        if (context == null) {
            context = new byte[0];
        }
    }

    /** A change with no context. */
    public static ConfChange of(Change... changes) {
        return new ConfChange(List.of(changes), null);
    }

    /** The change that leaves a joint configuration. */
    public static ConfChange leaveJoint() {
        return new ConfChange(List.of(), null);
    }

    /** True for the leave-joint marker. */
    public boolean isLeaveJoint() {
        return changes.isEmpty();
    }

    /** Encodes this change as the payload of a {@link EntryType#CONF_CHANGE} entry. */
    public byte[] encode() {
        byte[] out = new byte[1 + 4 + changes.size() * 9 + 4 + context.length];
        int p = 0;
        out[p++] = 1; // format version
        p = putInt(out, p, changes.size());
        for (Change c : changes) {
            out[p++] = (byte) c.type().ordinal();
            p = putLong(out, p, c.nodeId());
        }
        p = putInt(out, p, context.length);
        System.arraycopy(context, 0, out, p, context.length);
        return out;
    }

    /**
     * Decodes a payload written by {@link #encode()}.
     *
     * @throws IllegalArgumentException if the bytes are not a valid encoding
     */
    public static ConfChange decode(byte[] b) {
        try {
            int p = 0;
            if (b[p++] != 1) {
                throw new IllegalArgumentException("unknown conf change format " + b[0]);
            }
            int n = getInt(b, p);
            p += 4;
            if (n < 0 || n > (b.length - p) / 9) {
                throw new IllegalArgumentException("bad conf change count " + n);
            }
            List<Change> changes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int t = b[p++];
                if (t < 0 || t >= Type.values().length) {
                    throw new IllegalArgumentException("bad conf change type " + t);
                }
                changes.add(new Change(Type.values()[t], getLong(b, p)));
                p += 8;
            }
            int len = getInt(b, p);
            p += 4;
            if (len < 0 || len != b.length - p) {
                throw new IllegalArgumentException("bad conf change context length " + len);
            }
            byte[] ctx = new byte[len];
            System.arraycopy(b, p, ctx, 0, len);
            return new ConfChange(changes, ctx);
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("truncated conf change", e);
        }
    }

    private static int putInt(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
        return p + 4;
    }

    private static int putLong(byte[] b, int p, long v) {
        putInt(b, p, (int) (v >>> 32));
        return putInt(b, p + 4, (int) v);
    }

    private static int getInt(byte[] b, int p) {
        return ((b[p] & 0xff) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
    }

    private static long getLong(byte[] b, int p) {
        return ((long) getInt(b, p) << 32) | (getInt(b, p + 4) & 0xffffffffL);
    }
}
