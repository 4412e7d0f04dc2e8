using ContactGrains.Client;

namespace ContactGrains.Cli;

/// <summary>
/// An agent desktop in the terminal, on the client library's <see cref="AgentConnection"/>: its events
/// are shown as they arrive (<see cref="DeskState"/>, <see cref="DeskView"/>), and each line of input is
/// a command (<see cref="DeskCommands"/>). The connection reconnects by itself within the server's grace period.
/// </summary>
internal sealed class AgentDesk(AgentOptions options, TextReader input, TextWriter output, TimeProvider? timeProvider = null)
{
    /// <summary>Connects and runs the desk until /quit, end of input or cancellation.</summary>
    /// <returns>0 when the agent left; <see cref="ConnectionFailedException"/> escapes when the first connection fails.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var view = new DeskView(output, timeProvider ?? TimeProvider.System);
        view.Line($"Connecting to {string.Join(", ", options.Addresses)} as {options.AgentId}…");
        AgentConnection connection;
        try
        {
            connection = await AgentConnection.ConnectAsync(
                new AgentConnectionOptions { AgentId = options.AgentId, Token = options.Token, Profile = options.ToProfile(), Addresses = options.Addresses }, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }

        await using (connection)
        {
            var desk = new DeskState(connection, view, options);
            using var stopEvents = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var events = ShowEventsAsync(connection, desk, view, stopEvents.Token);
            try
            {
                await new DeskCommands(connection, desk, view, options.Capacity).RunAsync(input, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: leave like /quit.
            }
            finally
            {
                await stopEvents.CancelAsync();
                await events;
            }

            desk.SignedOut();
        }

        return 0;
    }

    private static async Task ShowEventsAsync(AgentConnection connection, DeskState desk, DeskView view, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var desktopEvent in connection.ReadEventsAsync(cancellationToken))
            {
                desk.Apply(desktopEvent);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ConnectionFailedException ex)
        {
            view.Error($"{ex.Message} Live events stopped; commands may still work. /quit and start again.");
        }
    }
}
