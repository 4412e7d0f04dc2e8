using ContactGrains.Cli;
using Grpc.Core;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(CliOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}

if (args[0] != "chat")
{
    Console.Error.WriteLine($"Unknown command '{args[0]}'.\n{CliOptions.Usage}");
    return 2;
}

var (options, error) = CliOptions.Parse(args[1..]);
if (options is null)
{
    Console.Error.WriteLine($"{error}\n{CliOptions.Usage}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    return await new CustomerChat(options, Console.In, Console.Out).RunAsync(cancel.Token);
}
catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable)
{
    Console.Error.WriteLine($"Cannot reach ContactGrains at {options.Address}: {ex.Status.Detail}. Is the silo running (dotnet run --project src/ContactGrains.Silo)?");
    return 1;
}
catch (OperationCanceledException)
{
    return 130;
}
