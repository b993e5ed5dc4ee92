package io.raftkv.raft;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The leader's pending ReadIndex requests (thesis §6.4), in arrival order. Each records the
 * commit index at arrival; it is released once a quorum has answered a heartbeat carrying its
 * context, which proves this node was still leader after the request arrived. Releasing one
 * request releases every earlier one too.
 */
final class ReadIndexQueue {
    /** One pending read. {@code from} is who asked (the leader itself or a follower). */
    record Pending(long index, long from, byte[] context, Set<Long> acks) {
    }

    private final Map<String, Pending> byKey = new HashMap<>();
    private final List<String> order = new ArrayList<>();

    static String key(byte[] ctx) {
        return HexFormat.of().formatHex(ctx);
    }

    /** Adds a request unless one with the same context is already pending. */
    void add(long index, long from, byte[] ctx) {
        String k = key(ctx);
        if (byKey.containsKey(k)) {
            return;
        }
        byKey.put(k, new Pending(index, from, ctx, new HashSet<>()));
        order.add(k);
    }

    /** Records a heartbeat acknowledgement; returns the ack set, or null if unknown context. */
    Set<Long> recvAck(long id, byte[] ctx) {
        Pending p = byKey.get(key(ctx));
        if (p == null) {
            return null;
        }
        p.acks().add(id);
        return p.acks();
    }

    /** Removes and returns every request up to and including the one with {@code ctx}. */
    List<Pending> advance(byte[] ctx) {
        String k = key(ctx);
        int i = order.indexOf(k);
        if (i < 0) {
            return List.of();
        }
        List<Pending> out = new ArrayList<>(i + 1);
        List<String> done = order.subList(0, i + 1);
        for (String s : done) {
            out.add(byKey.remove(s));
        }
        done.clear();
        return out;
    }

    /** Context of the newest pending request, or null. */
    byte[] lastPendingContext() {
        return order.isEmpty() ? null : byKey.get(order.get(order.size() - 1)).context();
    }

    int size() {
        return order.size();
    }

    void clear() {
        byKey.clear();
        order.clear();
    }
}
