package io.raftkv.e2e.jepsen;

import java.util.List;

/**
 * Where the nodes of one run live and how packets between them are cut. Each node slot gets its
 * own address; {@link #drop} makes packets from one slot to another disappear (a real drop, not a
 * closed connection), {@link #heal} restores every link. Client traffic from the test JVM is never
 * cut. {@link #close()} removes everything the run created, and must be safe to call twice and from
 * a shutdown hook. Not thread-safe: the nemesis thread is its only user during a run.
 */
interface Net extends AutoCloseable {

    /** A short description for the report, e.g. "network namespaces 10.77.3.0/24". */
    String mode();

    /** Faults this net cannot inject, each with the reason; empty when all can be injected. */
    List<String> cannotInject();

    /** True if {@link #drop} works here. */
    boolean canPartition();

    /** Creates what slot {@code slot} needs (its namespace); idempotent. */
    void addNode(int slot);

    /** The address node {@code slot} binds and clients connect to. */
    String host(int slot);

    /** {@code command} wrapped so that it runs inside slot {@code slot}'s network. */
    List<String> wrap(int slot, List<String> command);

    /** From now on, packets sent by {@code fromSlot} to {@code toSlot} are dropped (one way only). */
    void drop(int fromSlot, int toSlot);

    /** Removes every drop rule: the network is whole again. */
    void heal();

    /** Removes every namespace, link and rule this net created. Never throws. */
    @Override
    void close();

    /**
     * Network namespaces when this process may create them (root, {@code ip}, {@code nft}); otherwise
     * per-node 127.x.y.z loopback addresses, with partitions through root-namespace nftables if
     * available.
     */
    static Net create() {
        if (NamespaceNet.available()) {
            return NamespaceNet.create();
        }
        return LoopbackNet.create();
    }
}
