import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;

/**
 * Runs a main class (kafka.Kafka) and exits when the parent process goes away.
 *
 * The Node.js parent keeps this process's standard input open as a pipe. When the parent exits for
 * any reason, SIGKILL included, the operating system closes the pipe, the read below returns end of
 * stream and the JVM exits through its shutdown hooks (Kafka's controlled shutdown). If a clean
 * shutdown hangs, the JVM is halted after a grace period. This works on every OS Java runs on, which
 * prctl(PR_SET_PDEATHSIG) does not.
 *
 * Usage: java -cp <libs>:<this> ParentWatch <graceSeconds> <mainClass> [args...]
 */
public final class ParentWatch {
  public static void main(String[] args) throws Exception {
    final long graceMillis = Long.parseLong(args[0]) * 1000L;
    final String mainClass = args[1];
    final String[] rest = java.util.Arrays.copyOfRange(args, 2, args.length);

    Thread watcher = new Thread(() -> {
      InputStream in = System.in;
      byte[] buf = new byte[64];
      try {
        while (in.read(buf) != -1) {
          // The parent never writes; anything read is ignored.
        }
      } catch (IOException ignored) {
        // A broken pipe means the same as end of stream.
      }
      Thread halter = new Thread(() -> {
        try {
          Thread.sleep(graceMillis);
        } catch (InterruptedException ignored) {
          return;
        }
        Runtime.getRuntime().halt(3);
      }, "parent-watch-halt");
      halter.setDaemon(true);
      halter.start();
      System.exit(0);
    }, "parent-watch");
    watcher.setDaemon(true);
    watcher.start();

    Method main = Class.forName(mainClass).getMethod("main", String[].class);
    main.invoke(null, (Object) rest);
  }
}
