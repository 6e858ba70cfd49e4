import com.amazonaws.services.dynamodbv2.local.main.CommandLineInput;
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import com.amazonaws.services.dynamodbv2.local.server.LocalDynamoDBRequestHandler;
import com.amazonaws.services.dynamodbv2.local.server.LocalDynamoDBServerHandler;
import com.amazonaws.services.dynamodbv2.model.ExecuteTransactionRequest;
import com.amazonaws.services.dynamodbv2.model.ExecuteTransactionResult;
import com.amazonaws.services.dynamodbv2.model.ListTablesRequest;
import com.amazonaws.services.dynamodbv2.model.TransactWriteItemsRequest;
import com.amazonaws.services.dynamodbv2.model.TransactWriteItemsResult;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * DynamoDB Local as the Roster local runtime starts it: the same jar, the same command-line
 * options, with two changes the stock launcher cannot make.
 *
 * <p>It listens on one address (127.0.0.1 unless -Droster.host says otherwise). The stock
 * launcher binds every interface with no authentication, so anyone on the network could read
 * and write the local tables.
 *
 * <p>A transaction is committed before it is answered. In DynamoDB Local 1.25,
 * SQLiteDBAccess.commitTransaction hands the SQLite COMMIT to its single job queue and returns
 * without waiting for it (every other write waits), so TransactWriteItems answers 200 while its
 * COMMIT may still be queued: a process killed at that moment loses an acknowledged
 * transaction. The queue runs jobs one at a time in order, so a read queued after the COMMIT
 * returns only once the COMMIT has run; each transaction waits for such a read before it
 * answers.
 */
public final class RosterDynamoDbLocal {
  private RosterDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    String host = System.getProperty("roster.host", "127.0.0.1");
    CommandLineInput input = new CommandLineInput(args);
    if (!input.init()) {
      System.err.println("Roster DynamoDB Local: invalid arguments");
      System.exit(2);
    }
    // The stock start-up (it checks and optimises existing database files, and prints the
    // configuration); the server it returns is never started.
    ServerRunner.createServerFromCommandLineArgs(args);

    DurableTransactions requests =
        new DurableTransactions(
            input.isInMemory(),
            input.getDbPath(),
            input.getSharedDb(),
            input.shouldDelayTransientStatuses());
    DynamoDBProxyServer proxy =
        new DynamoDBProxyServer(
            input.getPort(), new LocalDynamoDBServerHandler(requests, input.getCorsParams()));
    for (Connector connector : jettyOf(proxy).getConnectors()) {
      ((ServerConnector) connector).setHost(host);
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    proxy.stop();
                  } catch (Exception ignored) {
                    // the process is ending either way
                  }
                }));
    // safeStart: Jetty only, without the stock start's telemetry.
    proxy.safeStart();
    System.out.println("Roster DynamoDB Local listening on " + host + ":" + input.getPort());
    proxy.join();
  }

  private static Server jettyOf(DynamoDBProxyServer proxy) throws ReflectiveOperationException {
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    return (Server) field.get(proxy);
  }

  static final class DurableTransactions extends LocalDynamoDBRequestHandler {
    DurableTransactions(boolean inMemory, String dbPath, boolean sharedDb, boolean delay) {
      super(0, inMemory, dbPath, sharedDb, delay);
    }

    @Override
    public TransactWriteItemsResult transactWriteItems(
        String accessKey, String region, TransactWriteItemsRequest request) {
      try {
        return super.transactWriteItems(accessKey, region, request);
      } finally {
        awaitQueuedCommit(accessKey, region);
      }
    }

    @Override
    public ExecuteTransactionResult executeTransaction(
        String accessKey, String region, ExecuteTransactionRequest request) {
      try {
        return super.executeTransaction(accessKey, region, request);
      } finally {
        awaitQueuedCommit(accessKey, region);
      }
    }

    /** A read through the same SQLite queue, behind the COMMIT (or ROLLBACK) just queued. */
    private void awaitQueuedCommit(String accessKey, String region) {
      listTables(accessKey, region, new ListTablesRequest().withLimit(1));
    }
  }
}
