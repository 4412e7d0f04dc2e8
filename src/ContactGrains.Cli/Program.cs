using ContactGrains.Cli;
using Grpc.Core;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(CliOptions.Overview);
    return args.Length == 0 ? 2 : 0;
}

if (args[0] is not ("chat" or "agent"))
{
    Console.Error.WriteLine($"Unknown command '{args[0]}'.\n{CliOptions.Overview}");
    return 2;
}

var agentMode = args[0] == "agent";
var usage = agentMode ? AgentOptions.Usage : CliOptions.Usage;
if (args[1..].Any(a => a is "-h" or "--help"))
{
    Console.WriteLine(usage);
    return 0;
}

string address;
Func<CancellationToken, Task<int>> run;
if (agentMode)
{
    var (options, error) = AgentOptions.Parse(args[1..]);
    if (options is null)
    {
        Console.Error.WriteLine($"{error}\n{usage}");
        return 2;
    }

    address = options.Address;
    run = token => new AgentDesk(options, Console.In, Console.Out).RunAsync(token);
}
else
{
    var (options, error) = CliOptions.Parse(args[1..]);
    if (options is null)
    {
        Console.Error.WriteLine($"{error}\n{usage}");
        return 2;
    }

    address = options.Address;
    run = token => new CustomerChat(options, Console.In, Console.Out).RunAsync(token);
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    return await run(cancel.Token);
}
catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable)
{
    Console.Error.WriteLine($"Cannot reach ContactGrains at {address}: {ex.Status.Detail}. Is the silo running (dotnet run --project src/ContactGrains.Silo)?");
    return 1;
}
catch (RpcException ex) when (ex.StatusCode is StatusCode.Unimplemented)
{
    Console.Error.WriteLine($"The silo at {address} does not serve this API ({ex.Status.Detail}): is it an older build?");
    return 1;
}
catch (RpcException ex) when (agentMode)
{
    // The agent's first Connect was refused (an unknown skill or language, a bad profile, …).
    Console.Error.WriteLine($"error: {ex.StatusCode}: {ex.Status.Detail}");
    return 1;
}
catch (OperationCanceledException)
{
    return 130;
}
