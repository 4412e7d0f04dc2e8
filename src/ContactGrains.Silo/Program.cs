using ContactGrains.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (!builder.TryAddContactGrains(Console.Error))
{
    return 1;
}

var app = builder.Build();
app.MapContactGrains();
await app.RunAsync();
return 0;
