package io.raftkv.e2e.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One network namespace per node, each joined by a veth pair to a Linux bridge that lives in a
 * namespace of its own; the test JVM reaches the bridge through one more veth pair from the root
 * namespace. Addresses are 10.77.B.0/24 with B derived from this JVM's pid: .1 is the JVM, .(10+slot)
 * node {@code slot}. Partitions are nftables drop rules in the sending node's namespace (output
 * hook, by destination address), so they are real packet drops on the node's own interface.
 *
 * <p>Every name starts with {@code rkvj<pid>}; {@link #create()} first deletes namespaces with that
 * prefix whose pid is no longer alive (a crashed earlier run). {@link #close()} deletes the
 * namespaces, which takes their veths and rules with them; a shutdown hook calls it too.
 */
final class NamespaceNet implements Net {
    private static final String PREFIX = "rkvj";
    private static final String TABLE = "jepsen";

    private final String id;
    private final String subnet;
    private final String bridgeNs;
    private final String hostLink;
    private final Set<Integer> slots = new TreeSet<>();
    private final Thread hook = new Thread(this::close, "jepsen-net-cleanup");
    private boolean closed;

    private NamespaceNet() {
        long pid = ProcessHandle.current().pid();
        this.id = PREFIX + pid;
        this.subnet = "10.77." + (pid % 250) + ".";
        this.bridgeNs = id + "-br";
        this.hostLink = id + "h";
    }

    /** True if this process can create namespaces and nftables rules in them. */
    static boolean available() {
        return Cmd.run(List.of("ip", "netns", "list")).ok() && Cmd.run(List.of("nft", "--version")).ok()
                && "root".equals(System.getProperty("user.name"));
    }

    /** Deletes stale namespaces of dead runs, then creates the bridge and the JVM's link to it. */
    static NamespaceNet create() {
        cleanStale();
        NamespaceNet net = new NamespaceNet();
        deleteNamespaces(name -> name.startsWith(net.id + "-")); // an earlier run in this same JVM
        Cmd.quiet("ip", "link", "del", net.hostLink);
        Runtime.getRuntime().addShutdownHook(net.hook);
        try {
            Cmd.check("ip", "netns", "add", net.bridgeNs);
            Cmd.check("ip", "-n", net.bridgeNs, "link", "set", "lo", "up");
            Cmd.check("ip", "-n", net.bridgeNs, "link", "add", "br0", "type", "bridge");
            Cmd.check("ip", "-n", net.bridgeNs, "link", "set", "br0", "up");
            Cmd.check("ip", "link", "add", net.hostLink, "type", "veth", "peer", "name", "uplink", "netns", net.bridgeNs);
            Cmd.check("ip", "-n", net.bridgeNs, "link", "set", "uplink", "master", "br0");
            Cmd.check("ip", "-n", net.bridgeNs, "link", "set", "uplink", "up");
            Cmd.check("ip", "addr", "add", net.subnet + "1/24", "dev", net.hostLink);
            Cmd.check("ip", "link", "set", net.hostLink, "up");
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    /** Deletes {@code rkvj<pid>-*} namespaces whose pid is not a live process. */
    static void cleanStale() {
        deleteNamespaces(name -> {
            if (!name.startsWith(PREFIX) || !name.contains("-")) {
                return false;
            }
            String pid = name.substring(PREFIX.length(), name.indexOf('-'));
            return pid.isEmpty() || !pid.chars().allMatch(Character::isDigit)
                    || ProcessHandle.of(Long.parseLong(pid)).isEmpty();
        });
    }

    private static void deleteNamespaces(java.util.function.Predicate<String> which) {
        for (String line : Cmd.run(List.of("ip", "netns", "list")).output().split("\n")) {
            String name = line.strip().split(" ")[0];
            if (!name.isEmpty() && which.test(name)) {
                Cmd.quiet("ip", "netns", "del", name);
            }
        }
    }

    private String ns(int slot) {
        return id + "-n" + slot;
    }

    @Override
    public String mode() {
        return "network namespaces (bridge " + bridgeNs + ", " + subnet + "0/24)";
    }

    @Override
    public List<String> cannotInject() {
        return List.of();
    }

    @Override
    public boolean canPartition() {
        return true;
    }

    @Override
    public void addNode(int slot) {
        if (!slots.add(slot)) {
            return;
        }
        String ns = ns(slot);
        String link = "v" + slot;
        Cmd.check("ip", "netns", "add", ns);
        Cmd.check("ip", "-n", ns, "link", "set", "lo", "up");
        Cmd.check("ip", "-n", bridgeNs, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Cmd.check("ip", "-n", bridgeNs, "link", "set", link, "master", "br0");
        Cmd.check("ip", "-n", bridgeNs, "link", "set", link, "up");
        Cmd.check("ip", "-n", ns, "addr", "add", host(slot) + "/24", "dev", "eth0");
        Cmd.check("ip", "-n", ns, "link", "set", "eth0", "up");
        nft(slot, "add", "table", "inet", TABLE);
        nft(slot, "add", "chain", "inet", TABLE, "out", "{ type filter hook output priority 0 ; policy accept ; }");
    }

    @Override
    public String host(int slot) {
        return subnet + (10 + slot);
    }

    @Override
    public List<String> wrap(int slot, List<String> command) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", ns(slot)));
        out.addAll(command);
        return out;
    }

    @Override
    public void drop(int fromSlot, int toSlot) {
        nft(fromSlot, "add", "rule", "inet", TABLE, "out", "ip", "daddr", host(toSlot), "drop");
    }

    @Override
    public void heal() {
        for (int slot : slots) {
            nft(slot, "flush", "chain", "inet", TABLE, "out");
        }
    }

    private void nft(int slot, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns(slot), "nft"));
        cmd.addAll(List.of(args));
        Cmd.check(cmd.toArray(String[]::new));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int slot : slots) {
            Cmd.quiet("ip", "netns", "del", ns(slot));
        }
        slots.clear();
        Cmd.quiet("ip", "link", "del", hostLink);
        Cmd.quiet("ip", "netns", "del", bridgeNs);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotRegistered) {
            // the hook is this call, or was never added
        }
    }
}
