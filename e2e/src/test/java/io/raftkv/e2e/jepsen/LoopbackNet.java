package io.raftkv.e2e.jepsen;

import java.util.List;

/**
 * The fallback when network namespaces cannot be created: node {@code slot} binds
 * 127.77.B.(10+slot) on the host's loopback. If root-namespace nftables works, drops are rules in a
 * table of this run's own (output hook, by source and destination address, which the node's peer
 * transport sets by binding its own address); otherwise no partition can be injected, and
 * {@link #cannotInject()} says so. Tables of crashed earlier runs ({@code rkvj<pid>} with a dead
 * pid) are deleted at creation.
 */
final class LoopbackNet implements Net {
    private final String table = "rkvj" + ProcessHandle.current().pid();
    private final String subnet = "127.77." + (ProcessHandle.current().pid() % 250) + ".";
    private final boolean nft;
    private final Thread hook = new Thread(this::close, "jepsen-nft-cleanup");
    private boolean closed;

    private LoopbackNet(boolean nft) {
        this.nft = nft;
    }

    /** Creates this run's nftables table if nft works here, after deleting tables of runs whose JVM is gone. */
    static LoopbackNet create() {
        for (String line : Cmd.run(List.of("nft", "list", "tables")).output().split("\n")) {
            String[] f = line.strip().split(" ");
            if (f.length == 3 && f[2].startsWith("rkvj") && f[2].substring(4).chars().allMatch(Character::isDigit)
                    && f[2].length() > 4 && ProcessHandle.of(Long.parseLong(f[2].substring(4))).isEmpty()) {
                Cmd.quiet("nft", "delete", "table", f[1], f[2]);
            }
        }
        Cmd.quiet("nft", "delete", "table", "inet", "rkvj" + ProcessHandle.current().pid());
        boolean nft = Cmd.run(List.of("nft", "add", "table", "inet", "rkvj" + ProcessHandle.current().pid())).ok();
        LoopbackNet net = new LoopbackNet(nft);
        if (nft) {
            Cmd.check("nft", "add", "chain", "inet", net.table, "out",
                    "{ type filter hook output priority 0 ; policy accept ; }");
            Runtime.getRuntime().addShutdownHook(net.hook);
        }
        return net;
    }

    @Override
    public String mode() {
        return "loopback " + subnet + "x (network namespaces unavailable: not root, or no ip/nft)";
    }

    @Override
    public List<String> cannotInject() {
        return nft ? List.of() : List.of("partitions (nftables unavailable)");
    }

    @Override
    public boolean canPartition() {
        return nft;
    }

    @Override
    public void addNode(int slot) {
        // every 127.0.0.0/8 address is already local
    }

    @Override
    public String host(int slot) {
        return subnet + (10 + slot);
    }

    @Override
    public List<String> wrap(int slot, List<String> command) {
        return command;
    }

    @Override
    public void drop(int fromSlot, int toSlot) {
        if (!nft) {
            throw new IllegalStateException("partitions cannot be injected: " + cannotInject());
        }
        Cmd.check("nft", "add", "rule", "inet", table, "out", "ip", "saddr", host(fromSlot), "ip", "daddr",
                host(toSlot), "drop");
    }

    @Override
    public void heal() {
        if (nft) {
            Cmd.check("nft", "flush", "chain", "inet", table, "out");
        }
    }

    @Override
    public synchronized void close() {
        if (closed || !nft) {
            return;
        }
        closed = true;
        Cmd.quiet("nft", "delete", "table", "inet", table);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotRegistered) {
            // the hook is this call
        }
    }
}
