using System.CommandLine;
using ContactGrains.Cli;
using ContactGrains.Client;
using Grpc.Core;

var root = Commands.Root(Console.In, Console.Out);
if (args.Length == 0)
{
    root.Parse(["--help"]).Invoke();
    return 2;
}

var result = root.Parse(args);
if (result.Errors.Count > 0)
{
    // Precise errors on stderr, exit code 2 (a usage error), and where to read the options.
    foreach (var error in result.Errors)
    {
        Console.Error.WriteLine($"error: {error.Message}");
    }

    var command = result.CommandResult.Command;
    Console.Error.WriteLine($"Run 'contactgrains {(command is RootCommand ? "" : command.Name + " ")}--help' for the options.");
    return 2;
}

var address = result.GetValue<string[]>("--address") is { Length: > 0 } addresses ? string.Join(", ", addresses) : "";
try
{
    return await result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception ex) when (ex is ConnectionFailedException or RpcException)
{
    var status = ex is ConnectionFailedException failed ? failed.Status : ((RpcException)ex).Status;
    Console.Error.WriteLine(status.StatusCode switch
    {
        StatusCode.Unavailable => $"Cannot reach ContactGrains at {address}: {status.Detail.TrimEnd('.')}. Is the silo running (dotnet run --project src/ContactGrains.Silo)?",
        StatusCode.Unimplemented => $"The silo at {address} does not serve this API ({status.Detail}): is it an older build?",
        _ => $"error: {ex.Message}",
    });
    return 1;
}
catch (OperationCanceledException)
{
    return 130;
}
