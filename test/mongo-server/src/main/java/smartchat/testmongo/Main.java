package smartchat.testmongo;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;

/**
 * Tiny launcher for an in-memory MongoDB wire-protocol server used by the
 * integration tests (MongoDB itself cannot be installed on the test machines).
 *
 * <p>Usage: {@code java -jar mongo-test-server.jar [port]} (port 0 or omitted = pick a free one).
 * Binds to 127.0.0.1 only, prints exactly one line {@code READY <port>} to stdout once it
 * accepts connections, and shuts down on SIGTERM/SIGINT or when its stdin is closed
 * (so it never outlives the test process that spawned it with a stdin pipe).
 */
public final class Main {

    /**
     * Reported server version. mongo-java-server 1.47.0's newest constant, ServerVersion.MONGO_5_0,
     * advertises maxWireVersion 8 (= MongoDB 4.2), which the mongodb Node driver 7 rejects
     * (it needs >= 9, MongoDB 4.4). The version is only used for hello/buildInfo replies, so
     * report MongoDB 5.0.0 with its real wire version 13.
     */
    static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    private Main() {
    }

    public static void main(String[] args) {
        int port = 0;
        if (args.length > 0) {
            try {
                port = Integer.parseInt(args[0].trim());
            } catch (NumberFormatException e) {
                System.err.println("mongo-test-server: invalid port '" + args[0] + "'");
                System.exit(2);
                return;
            }
            if (port < 0 || port > 65535) {
                System.err.println("mongo-test-server: port out of range: " + port);
                System.exit(2);
                return;
            }
        }

        // Memory backend whose collections also use a unique index when the filter has further
        // conditions besides that index's full key, as MongoDB does (see IndexedMemoryCollection).
        IndexedMemoryBackend backend = new IndexedMemoryBackend();
        backend.version(REPORTED_VERSION);
        MongoServer server = new MongoServer(backend);

        try {
            server.bind("127.0.0.1", port);
        } catch (RuntimeException e) {
            System.err.println("mongo-test-server: failed to bind 127.0.0.1:" + port + ": " + e);
            server.shutdownNow();
            System.exit(1);
            return;
        }

        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "mongo-test-server-shutdown"));

        Thread stdinWatcher = new Thread(() -> {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            try {
                while (in.read(buf) != -1) {
                    // ignore input; we only care about EOF
                }
            } catch (IOException ignored) {
                // treat a broken stdin like EOF
            }
            System.exit(0);
        }, "mongo-test-server-stdin");
        stdinWatcher.setDaemon(true);
        stdinWatcher.start();

        InetSocketAddress address = server.getLocalAddress();
        System.out.println("READY " + address.getPort());
        System.out.flush();
        // Netty's event-loop threads are non-daemon and keep the JVM alive until shutdown.
    }
}
