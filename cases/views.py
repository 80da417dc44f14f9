from django.http import HttpResponse


def table(request):
    return HttpResponse("cases table: to do")


def export_csv(request):
    return HttpResponse("to do")


def export_xlsx(request):
    return HttpResponse("to do")


def row(request, number: str):
    return HttpResponse("to do")
