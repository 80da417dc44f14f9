from django.http import HttpResponse


def stats(request):
    return HttpResponse("to do")
